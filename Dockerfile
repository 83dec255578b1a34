# TrueFilm backend image.
#
#   docker build -t truefilm .                    the production image (the last
#                                                 stage, "runtime": production
#                                                 dependencies only)
#   docker build --target dev -t truefilm:dev .   the same plus dev dependencies,
#                                                 the tests and the lint tools
#
# docker-compose.yml builds "dev" (BACKEND_TARGET in .env) so that
# `docker exec backend npm test` works; BACKEND_TARGET=runtime runs the lean image.
# Both keep running idle, so that `docker exec backend ...` runs the commands:
#   docker exec backend ./data_download.sh
#   docker exec backend node dist/main.js --threads 8
#   docker exec backend node dist/main.js dashboard      (listens on 0.0.0.0:8502)
# The database is the compose `postgres` service (DATABASE_URL); the embedded
# PostgreSQL package is installed as a dependency but not used there.
#
# Debian (glibc), not Alpine: the embedded PostgreSQL binaries that the tests
# start are built for glibc. Pinned by exact version; pin the digest too
# (node:20.20.2-bookworm-slim@sha256:...) where reproducibility matters.

FROM node:20.20.2-bookworm-slim AS base
# lbzip2, bzip2: the pipeline reads .bz2 dumps through them (src/scan/decompress.ts;
# downloads need nothing else: `truefilm download` is Node); tini: PID 1, forwards
# signals and reaps what `docker exec` leaves behind. Debian package versions are
# left to the pinned image's release (bookworm), which only takes security fixes.
RUN apt-get update \
 && apt-get install -y --no-install-recommends bzip2 ca-certificates lbzip2 tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
RUN chown node:node /app
ENV TRUEFILM_DASHBOARD_HOST=0.0.0.0 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false
EXPOSE 8502
ENTRYPOINT ["/usr/bin/tini", "--"]
# Stay up for `docker exec`; say what to run.
CMD ["sh", "-c", "echo 'truefilm backend is up. Next: docker exec backend ./data_download.sh; docker exec backend node dist/main.js --threads 8; docker exec backend node dist/main.js dashboard (http://127.0.0.1:8502/)'; exec sleep infinity"]
# Healthy when the node modules load and the database (DATABASE_URL) answers.
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const u = process.env.DATABASE_URL; if (!u) process.exit(0); const c = new (require('pg').Client)({ connectionString: u, connectionTimeoutMillis: 5000 }); c.connect().then(() => c.query('SELECT 1')).then(() => c.end()).then(() => process.exit(0), (e) => { console.error('unhealthy: ' + e.message); process.exit(1); });"]

# --- dependencies: all of them (to build and test), and production only (to run)
FROM base AS deps
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit

FROM base AS prod-deps
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit

# --- TypeScript -> dist/
FROM deps AS build
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

# --- dev: everything `npm test` and `npm run lint` need (compose's default target)
FROM base AS dev
# python3: the tests' independent oracle. shellcheck, clang and lld: `npm run
# lint` (bookworm's clang is the one that built the embedded docfind.wasm, so
# the check runs here). No chromium: the browser test's Chromium comes with the
# dev dependencies (@sparticuz/chromium), as on any machine.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 shellcheck clang lld \
 && rm -rf /var/lib/apt/lists/*
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node . .
COPY --from=build --chown=node:node /app/dist ./dist
RUN chmod 755 data_download.sh && mkdir -p data && chown node:node data
USER node
VOLUME ["/app/data"]

# --- runtime: production dependencies and the built program only (the default)
FROM base AS runtime
ENV NODE_ENV=production
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# the dashboard's page: dist/dashboard/ reads it from ../../src/dashboard/static
COPY src/dashboard/static ./src/dashboard/static
COPY package.json package-lock.json ./
COPY --chmod=755 data_download.sh ./
COPY data/sample ./data/sample
RUN chown node:node data
USER node
VOLUME ["/app/data"]
