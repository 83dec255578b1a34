/**
 * Piscina worker for the abstract-dump scan: a thin wrapper over the core in
 * src/scan/task.ts. What the tasks of a run share (the key log, the wanted
 * IMDb ids) comes once, as workerData.
 */
import { workerData } from 'node:worker_threads';
import { runScanTask } from '../scan/task.js';
import type { ScanContext, ScanTask, TaskResult } from '../scan/types.js';

const context = workerData as ScanContext;

export default function scan(task: ScanTask): TaskResult {
  // the progress bar's rate counts from when the first bytes are read, not from when the pool started up
  const startedAt = Date.now();
  return { ...runScanTask(task, context), startedAt };
}
