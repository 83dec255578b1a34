#!/usr/bin/env bash
# Downloads what the TrueFilm pipeline reads into data/: the Kaggle movies CSV and
# the English Wikipedia abstract dump. ./data_download.sh --help tells the details.
#
# Layout: each thing to download is a "source", a function named source_<name>
# (source_metadata, source_abstracts); --source <name> picks them. To add one,
# write source_<name>, list it in the help text, and, if it should run by
# default, in DEFAULT_SOURCES. The helpers below (download, decompress_gz,
# check_space, resolve_checksum) are shared by all sources.
set -euo pipefail

readonly PROG=data_download.sh
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR

readonly DEFAULT_ABSTRACTS_URL=https://dumps.wikimedia.org/enwiki/20250201/enwiki-20250201-abstract.xml.gz
# the names `truefilm run` reads from its data directory by default
readonly ABSTRACTS_XML_NAME=enwiki-latest-abstract.xml
readonly METADATA_NAME=movies_metadata.csv
readonly KAGGLE_DATASET=rounakbanik/the-movies-dataset
readonly KAGGLE_PAGE=https://www.kaggle.com/datasets/rounakbanik/the-movies-dataset
readonly USER_AGENT='truefilm-data-download/0.1.0 (https://github.com/truefilm/truefilm; data pipeline)'
readonly DEFAULT_SOURCES='metadata abstracts'

usage() {
  cat <<EOF
Usage: ./data_download.sh [options]

Downloads what \`truefilm run\` reads into data/ (beside this script, or
TRUEFILM_DATA_DIR):
  movies_metadata.csv          the Kaggle "The Movies Dataset" CSV
  enwiki-latest-abstract.xml   the English Wikipedia abstract dump, decompressed
Work already done is skipped, so running it again after an interruption goes on
where it stopped (a partial download is kept as <file>.part and resumed).

Options
  --source NAME    download only this source; repeat for several
                   (default: ${DEFAULT_SOURCES}):
                     metadata   the movies CSV: from METADATA_URL when set, else
                                with the Kaggle CLI when its credentials are
                                present, else it tells how to get the file
                     abstracts  the abstract dump from ABSTRACTS_URL: download
                                (resumable), verify its checksum, decompress
  --data-dir DIR   where the files go [env TRUEFILM_DATA_DIR]
                   (default: data/ beside this script; give \`truefilm run\`
                   the same --data-dir)
  --keep-gz        keep the downloaded .gz after decompressing it
                   (deleted by default: the .xml is what the pipeline reads)
  --force          download again even when the files are already there
  -h, --help       this text

Environment
  ABSTRACTS_URL         the abstract dump, .xml.gz or .xml; default:
                        ${DEFAULT_ABSTRACTS_URL}
  ABSTRACTS_CHECKSUM    its expected digest in hex: md5, sha1, sha256 or sha512
                        (told apart by length; "sha256:<hex>" also works), or
                        "none" to skip verification. Unset: a digest published
                        beside the file is used: <file>.sha256, .sha512, .sha1 or
                        .md5, else the dump's <wiki>-<date>-sha1sums.txt or
                        -md5sums.txt, else SHA256SUMS; without any, only gzip's
                        own CRC check guards the file
  METADATA_URL          a copy of movies_metadata.csv (.csv, .csv.gz or .zip)
  METADATA_CHECKSUM     as ABSTRACTS_CHECKSUM, for METADATA_URL
  KAGGLE_USERNAME, KAGGLE_KEY (or ~/.kaggle/kaggle.json)
                        credentials of the Kaggle CLI (pip install kaggle)
  DOWNLOAD_TRIES        attempts per file, each resuming the last (default 5)
  DOWNLOAD_RETRY_DELAY  seconds between attempts (default 10)
  DECOMPRESS_RATIO      free space demanded before decompressing, as a multiple
                        of the .gz size (default 8; the 2025-02-01 dump holds
                        about 7 GB of XML). pigz is used when installed, else gzip

The abstract dump
  Wikimedia stopped producing the abstract dumps in February 2025 (Phabricator
  T382069): the last complete one is dated 2025-02-01. The naming convention of
  the dumps: the run directory https://dumps.wikimedia.org/<wiki>/<YYYYMMDD>/
  holds <wiki>-<YYYYMMDD>-abstract.xml.gz (every page in one file), the same
  split in <wiki>-<YYYYMMDD>-abstract1.xml.gz .. abstract27.xml.gz, and the
  digests of all its files in <wiki>-<YYYYMMDD>-md5sums.txt and -sha1sums.txt;
  <wiki>/latest/<wiki>-latest-abstract.xml.gz was the newest run's copy. The
  download is saved as enwiki-latest-abstract.xml, the name the pipeline reads.
  dumps.wikimedia.org keeps only its last few runs: when the default URL
  answers 404, take the same file from a mirror listed at
  https://dumps.wikimedia.org/mirrors.html or from the Internet Archive, and
  set ABSTRACTS_URL (and ABSTRACTS_CHECKSUM when the mirror has no digests).
  Alternatives for newer text, which a later version of TrueFilm adds as
  sources: the Wikipedia REST page summary API
  (https://en.wikipedia.org/api/rest_v1/page/summary/<title>) and the
  CirrusSearch dumps of the enwiki_content index (under
  https://dumps.wikimedia.org/other/).

Exit status: 0 done (or nothing left to do), 1 a download or check failed
(the message says which file and what to do), 2 bad usage.
EOF
}

# --- messages ----------------------------------------------------------------

say() { printf '%s\n' "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "$PROG" "$*" >&2
  exit 1
}
usage_error() {
  printf '%s: %s\nSee: %s --help\n' "$PROG" "$*" "$0" >&2
  exit 2
}

# 1234567890 -> "1.2 GB"
human() {
  awk -v b="$1" 'BEGIN {
    split("B KB MB GB TB", u, " "); i = 1
    while (b >= 1000 && i < 5) { b /= 1000; i++ }
    printf (i == 1 ? "%d %s" : "%.1f %s"), b, u[i]
  }'
}

# --- temporary files, interruption ---------------------------------------------

TMP_FILES=()
EMPTY_DIRS=() # removed on exit when empty
cleanup() {
  local f
  for f in ${TMP_FILES[@]+"${TMP_FILES[@]}"}; do rm -rf -- "$f"; done
  for f in ${EMPTY_DIRS[@]+"${EMPTY_DIRS[@]}"}; do rmdir -- "$f" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'warn "interrupted: run again to resume (partial downloads are kept as *.part)"; exit 130' INT
trap 'warn "terminated: run again to resume (partial downloads are kept as *.part)"; exit 143' TERM

# new_tmp VAR: a temporary file, removed on exit, named in VAR
new_tmp() {
  local f
  f=$(mktemp "${TMPDIR:-/tmp}/data_download.XXXXXX") || die "cannot create a temporary file in ${TMPDIR:-/tmp}"
  TMP_FILES+=("$f")
  printf -v "$1" '%s' "$f"
}

# --- small helpers -------------------------------------------------------------

file_size() {
  if [[ -e $1 ]]; then wc -c <"$1" | tr -d ' '; else echo 0; fi
}

# the file name at the end of a URL, without its query string
url_name() {
  local u=${1%%[?#]*}
  printf '%s\n' "${u##*/}"
}

check_url() {
  [[ $1 =~ ^(https?|ftp|file):// ]] || die "$2 must be an http(s):// URL, got \"$1\""
}

# Bytes free on the file system of a directory (empty when df cannot tell).
free_bytes() {
  local kb
  kb=$(df -Pk "$1" 2>/dev/null | awk 'NR == 2 { print $4 }') || true
  [[ $kb =~ ^[0-9]+$ ]] && echo $((kb * 1024))
  return 0
}

check_space() {
  local dir=$1 need=$2 what=$3 free
  free=$(free_bytes "$dir")
  if [[ -z $free ]]; then
    warn "cannot tell the free space in $dir (df failed): going on"
    return 0
  fi
  if ((need > free)); then
    die "not enough free disk space in $dir to $what: about $(human "$need") needed, $(human "$free") free. Free some space, or put the data on a bigger disk with --data-dir/TRUEFILM_DATA_DIR (and give \`truefilm run\` the same --data-dir)."
  fi
}

# Hex digest of a file: digest md5|sha1|sha256|sha512 FILE
digest() {
  local algo=$1 file=$2
  case $algo in
  md5)
    if command -v md5sum >/dev/null 2>&1; then
      md5sum <"$file"
    elif command -v md5 >/dev/null 2>&1; then
      md5 -q <"$file"
    else
      die "md5sum is needed to verify $file (apt-get install coreutils)"
    fi
    ;;
  sha1 | sha256 | sha512)
    if command -v "${algo}sum" >/dev/null 2>&1; then
      "${algo}sum" <"$file"
    elif command -v shasum >/dev/null 2>&1; then
      shasum -a "${algo#sha}" <"$file"
    else
      die "${algo}sum is needed to verify $file (apt-get install coreutils)"
    fi
    ;;
  esac | awk '{ print tolower($1) }'
}

# The algorithm of a hex digest, from its length (empty when it is not one).
algo_of() {
  local hex
  hex=$(printf '%s' "$1" | tr 'A-F' 'a-f')
  [[ $hex =~ ^[0-9a-f]+$ ]] || return 0
  case ${#hex} in
  32) echo md5 ;;
  40) echo sha1 ;;
  64) echo sha256 ;;
  128) echo sha512 ;;
  esac
}

# --- HTTP ----------------------------------------------------------------------

# progress bar on a terminal, quiet (errors only) otherwise
if [[ -t 2 ]]; then CURL_PROGRESS=(--progress-bar); else CURL_PROGRESS=(-sS); fi
CURL_COMMON=(-L -A "$USER_AGENT" --connect-timeout 30)

# Fetches a small file: http_small URL OUT. Returns 0 (2xx), 10 (404/410: not
# there) or 1 (anything else; the reason is in HTTP_ERROR).
HTTP_ERROR=
http_small() {
  local url=$1 out=$2 code rc=0 err
  new_tmp err
  code=$(curl -sS "${CURL_COMMON[@]}" --max-time 120 -o "$out" -w '%{http_code}' "$url" 2>"$err") || rc=$?
  if ((rc != 0)); then
    HTTP_ERROR=$(tr '\n' ' ' <"$err")
    return 1
  fi
  case $code in
  2??) return 0 ;;
  404 | 410) return 10 ;;
  *)
    HTTP_ERROR="HTTP $code"
    return 1
    ;;
  esac
}

# Asks the size of a remote file (HEAD): sets REMOTE_SIZE (empty when the
# server does not say). Dies with a clear message when it is not there.
# The hint for a missing file is in NOT_FOUND_HINT.
REMOTE_SIZE=
NOT_FOUND_HINT=
remote_size() {
  local url=$1 headers err code rc=0
  REMOTE_SIZE=
  new_tmp headers
  new_tmp err
  code=$(curl -sS -I "${CURL_COMMON[@]}" --max-time 120 -o "$headers" -w '%{http_code}' "$url" 2>"$err") || rc=$?
  if ((rc != 0)); then
    die "cannot reach $url: $(tr '\n' ' ' <"$err")(curl exit $rc). Check the address and the network, then run again."
  fi
  case $code in
  2??)
    # the last response's Content-Length (after any redirects)
    REMOTE_SIZE=$(tr -d '\r' <"$headers" | awk '
      /^HTTP\// { n = "" }
      tolower($1) == "content-length:" { n = $2 }
      END { print n }')
    [[ $REMOTE_SIZE =~ ^[0-9]+$ ]] || REMOTE_SIZE=
    ;;
  404 | 410)
    die "not found (HTTP $code): $url${NOT_FOUND_HINT:+. $NOT_FOUND_HINT}"
    ;;
  401 | 403)
    die "the server refused the download (HTTP $code): $url"
    ;;
  *) ;; # HEAD not supported, or a passing server error: the download will tell
  esac
}

# Finds the expected digest of a download: resolve_checksum URL GIVEN VARNAME.
# Sets CHECK_ALGO and CHECK_HEX (empty: nothing to verify against) and CHECK_FROM.
CHECK_ALGO=
CHECK_HEX=
CHECK_FROM=
resolve_checksum() {
  local url=$1 given=$2 var=$3
  CHECK_ALGO='' CHECK_HEX='' CHECK_FROM=''
  if [[ -n $given ]]; then
    if [[ $given == none ]]; then
      CHECK_FROM="$var=none"
      return 0
    fi
    local hex=${given#*:} algo
    hex=$(printf '%s' "$hex" | tr 'A-F' 'a-f')
    algo=$(algo_of "$hex")
    if [[ -z $algo ]] || { [[ $given == *:* ]] && [[ ${given%%:*} != "$algo" ]]; }; then
      die "$var must be an md5, sha1, sha256 or sha512 digest in hex (or none), got \"$given\""
    fi
    CHECK_ALGO=$algo CHECK_HEX=$hex CHECK_FROM=$var
    return 0
  fi

  local base=${url%%[?#]*} name dir
  name=$(url_name "$url")
  dir=${base%/*}
  local candidates=("$base.sha256" "$base.sha512" "$base.sha1" "$base.md5")
  if [[ $name =~ ^([A-Za-z0-9_]+-[0-9]{8})- ]]; then # a Wikimedia dump run: enwiki-20250201-...
    candidates+=("$dir/${BASH_REMATCH[1]}-sha1sums.txt" "$dir/${BASH_REMATCH[1]}-md5sums.txt")
  fi
  candidates+=("$dir/SHA256SUMS")

  local candidate body rc hex algo
  new_tmp body
  for candidate in "${candidates[@]}"; do
    rc=0
    http_small "$candidate" "$body" || rc=$?
    case $rc in
    0) ;;
    10) continue ;;
    *) die "could not fetch the checksum file $candidate: $HTTP_ERROR. Run again, or set $var (a digest, or none)." ;;
    esac
    # "<hex>  <name>" / "<hex> *<name>" lines, or a lone "<hex>"
    hex=$(tr -d '\r' <"$body" | awk -v n="$name" '
      NF >= 2 && ($2 == n || $2 == "*" n) { print $1; exit }
      NF == 1 && NR == 1 { lone = $1 }
      END { if (lone != "") print lone }' | head -n 1)
    hex=$(printf '%s' "$hex" | tr 'A-F' 'a-f')
    algo=$(algo_of "$hex")
    if [[ -z $algo ]]; then
      warn "$candidate does not give a digest for $name: ignoring it"
      continue
    fi
    CHECK_ALGO=$algo CHECK_HEX=$hex CHECK_FROM=$candidate
    return 0
  done
  return 0
}

# Downloads URL to DEST, resuming DEST.part, and verifies it:
# download URL DEST GIVEN_CHECKSUM CHECKSUM_VARNAME
# DEST appears only once the download is complete and verified.
download() {
  local url=$1 dest=$2 given=$3 var=$4
  local part="$dest.part" name have
  name=$(url_name "$url")

  # a digest given is checked before any request; the file is asked for before
  # any digest published beside it, so that a missing file is what is reported
  [[ -n $given ]] && resolve_checksum "$url" "$given" "$var"
  remote_size "$url"
  [[ -z $given ]] && resolve_checksum "$url" "$given" "$var"
  have=$(file_size "$part")
  if [[ -n $REMOTE_SIZE ]] && ((have > REMOTE_SIZE)); then
    warn "$part is larger than the file on the server ($(human "$REMOTE_SIZE")): starting over"
    rm -f -- "$part"
    have=0
  fi
  if [[ -n $REMOTE_SIZE ]]; then
    check_space "$(dirname "$dest")" $((REMOTE_SIZE - have)) "download $name"
  fi

  local try=1 rc code
  while :; do
    have=$(file_size "$part")
    if [[ -n $REMOTE_SIZE ]] && ((have == REMOTE_SIZE && have > 0)); then break; fi
    if ((have > 0)); then
      say "resuming $name at $(human "$have")${REMOTE_SIZE:+ of $(human "$REMOTE_SIZE")}"
    else
      say "downloading $name${REMOTE_SIZE:+ ($(human "$REMOTE_SIZE"))} from $url"
    fi
    rc=0
    code=$(curl "${CURL_PROGRESS[@]}" -f "${CURL_COMMON[@]}" --speed-limit 1024 --speed-time 120 \
      -C - -o "$part" -w '%{http_code}' "$url") || rc=$?
    case $rc in
    0) break ;;
    22)
      case $code in
      404 | 410) die "not found (HTTP $code): $url${NOT_FOUND_HINT:+. $NOT_FOUND_HINT}" ;;
      401 | 403) die "the server refused the download (HTTP $code): $url" ;;
      416)
        warn "the server cannot resume $part (HTTP 416): starting over"
        rm -f -- "$part"
        ;;
      429 | 5??) warn "the server answered HTTP $code" ;;
      *) die "the download of $url failed with HTTP $code" ;;
      esac
      ;;
    33)
      warn "the server does not support resuming downloads: starting $name over"
      rm -f -- "$part"
      ;;
    *) warn "the transfer of $name was cut off (curl exit $rc) at $(human "$(file_size "$part")")" ;;
    esac
    if ((try >= DOWNLOAD_TRIES)); then
      have=$(file_size "$part")
      if ((have > 0)); then
        die "could not download $url in $DOWNLOAD_TRIES attempt(s); the $(human "$have") received are kept in $part: run again to resume"
      fi
      die "could not download $url in $DOWNLOAD_TRIES attempt(s): run again later"
    fi
    try=$((try + 1))
    sleep "$DOWNLOAD_RETRY_DELAY"
  done

  have=$(file_size "$part")
  if [[ -n $REMOTE_SIZE ]] && ((have != REMOTE_SIZE)); then
    rm -f -- "$part"
    die "$name came to $have bytes, the server announced $REMOTE_SIZE: deleted it; run again to download it afresh"
  fi
  if [[ -n $CHECK_ALGO ]]; then
    say "verifying $name ($CHECK_ALGO from $CHECK_FROM)"
    local actual
    actual=$(digest "$CHECK_ALGO" "$part")
    if [[ $actual != "$CHECK_HEX" ]]; then
      rm -f -- "$part"
      die "checksum mismatch for $name: expected $CHECK_ALGO $CHECK_HEX (from $CHECK_FROM), got $actual. The download was deleted: run again to download it afresh; if it fails again, the file on the server or its checksum is wrong."
    fi
    say "checksum ok"
  elif [[ -n $CHECK_FROM ]]; then
    say "not verifying $name ($CHECK_FROM)"
  else
    warn "no checksum is published beside $name (and $var is not set): not verified"
  fi
  mv -f -- "$part" "$dest"
}

# The size modulo 2^32 that a gzip file records of its content (its last 4 bytes).
gzip_isize() {
  tail -c 4 "$1" | od -An -tu1 | awk '{ for (i = NF; i >= 1; i--) s = s * 256 + $i } END { printf "%d\n", s }'
}

# Decompresses GZ to XML (XML appears only once complete): decompress_gz GZ XML
decompress_gz() {
  local gz=$1 xml=$2 tool=gzip need isize
  command -v pigz >/dev/null 2>&1 && tool=pigz
  need=$(($(file_size "$gz") * DECOMPRESS_RATIO))
  isize=$(gzip_isize "$gz")
  ((isize > need)) && need=$isize
  check_space "$(dirname "$xml")" "$need" "decompress $(basename "$gz")"

  local part="$xml.part" err
  TMP_FILES+=("$part")
  new_tmp err
  say "decompressing $(basename "$gz") with $tool into $(basename "$xml")"
  if ! "$tool" -dc <"$gz" >"$part" 2>"$err"; then
    local why
    why=$(head -c 400 "$err" | tr '\n' ' ')
    rm -f -- "$part"
    if grep -qi 'no space' "$err"; then
      die "the disk filled up while decompressing $gz ($why): it is kept; free some space and run again"
    fi
    rm -f -- "$gz"
    die "$gz is not a valid gzip file ($why): deleted it; run again to download it afresh"
  fi
}

# --- sources -------------------------------------------------------------------

# The English Wikipedia abstract dump, as DATA_DIR/enwiki-latest-abstract.xml.
source_abstracts() {
  local url=${ABSTRACTS_URL:-$DEFAULT_ABSTRACTS_URL}
  check_url "$url" ABSTRACTS_URL
  local name xml="$DATA_DIR/$ABSTRACTS_XML_NAME" stamp="$DATA_DIR/.$ABSTRACTS_XML_NAME.source"
  name=$(url_name "$url")

  if [[ -f $xml ]] && ((!FORCE)); then
    if [[ -f $stamp ]]; then
      local was
      was=$(sed -n 's/^url=//p' "$stamp")
      if [[ $was == "$url" ]]; then
        say "abstracts: $xml is already there (from $url): nothing to do"
        return 0
      fi
      die "$xml was downloaded from $was, not from ABSTRACTS_URL=$url: run with --force to replace it"
    fi
    say "abstracts: $xml is already there (not downloaded by this script): keeping it; --force replaces it"
    return 0
  fi

  NOT_FOUND_HINT="dumps.wikimedia.org keeps only its last few runs, and Wikimedia stopped producing the abstract dumps in February 2025 (T382069): take $name from a mirror (https://dumps.wikimedia.org/mirrors.html) or the Internet Archive and set ABSTRACTS_URL (see --help)"
  say "abstracts: $url"
  case $name in
  *.gz)
    local gz="$DATA_DIR/$name"
    ((FORCE)) && rm -f -- "$gz" "$gz.part"
    if [[ -f $gz ]]; then
      say "$name is already downloaded and checked"
    else
      download "$url" "$gz" "${ABSTRACTS_CHECKSUM:-}" ABSTRACTS_CHECKSUM
    fi
    decompress_gz "$gz" "$xml"
    printf 'url=%s\nfile=%s\nchecksum=%s\n' "$url" "$name" "${CHECK_ALGO:+$CHECK_ALGO:$CHECK_HEX}" >"$stamp.tmp"
    mv -f -- "$stamp.tmp" "$stamp"
    mv -f -- "$xml.part" "$xml"
    if ((KEEP_GZ)); then
      say "kept $gz (--keep-gz)"
    else
      rm -f -- "$gz"
    fi
    ;;
  *.xml)
    ((FORCE)) && rm -f -- "$xml.part"
    download "$url" "$xml.download" "${ABSTRACTS_CHECKSUM:-}" ABSTRACTS_CHECKSUM
    printf 'url=%s\nfile=%s\nchecksum=%s\n' "$url" "$name" "${CHECK_ALGO:+$CHECK_ALGO:$CHECK_HEX}" >"$stamp.tmp"
    mv -f -- "$stamp.tmp" "$stamp"
    mv -f -- "$xml.download" "$xml"
    ;;
  *) die "ABSTRACTS_URL must name a .xml.gz or .xml file, got \"$name\"" ;;
  esac
  say "abstracts: ready in $xml ($(human "$(file_size "$xml")"))"
}

# Checks that FILE is movies_metadata.csv, else removes it and WORK and dies:
# check_metadata_csv FILE WORK
check_metadata_csv() {
  local file=$1 work=$2 first
  first=$(head -c 4096 "$file" | head -n 1 | tr -d '\r')
  if [[ $first != *budget* || $first != *revenue* || $first != *imdb_id* ]]; then
    rm -rf -- "$file" "$work"
    die "the file fetched does not look like movies_metadata.csv (its first line: \"${first:0:120}\")"
  fi
}

# Extracts movies_metadata.csv from a zip archive: unzip_metadata ZIP OUT
unzip_metadata() {
  local zip=$1 out=$2 inner
  if command -v unzip >/dev/null 2>&1; then
    inner=$(unzip -Z1 "$zip" | grep -E "(^|/)$METADATA_NAME\$" | head -n 1) ||
      die "$zip holds no $METADATA_NAME"
    unzip -p "$zip" "$inner" >"$out" || die "cannot extract $METADATA_NAME from $zip"
  elif command -v python3 >/dev/null 2>&1; then
    python3 - "$zip" "$out" "$METADATA_NAME" <<'PY' || die "cannot extract $METADATA_NAME from $zip"
import shutil, sys, zipfile
archive, out, name = sys.argv[1:]
with zipfile.ZipFile(archive) as z:
    inner = next((n for n in z.namelist() if n == name or n.endswith('/' + name)), None)
    if inner is None:
        sys.exit(f'{archive} holds no {name}')
    with z.open(inner) as src, open(out, 'wb') as dst:
        shutil.copyfileobj(src, dst)
PY
  else
    die "unzip (or python3) is needed to open $zip: apt-get install unzip"
  fi
}

metadata_from_url() {
  local url=$METADATA_URL csv="$DATA_DIR/$METADATA_NAME" name work
  check_url "$url" METADATA_URL
  name=$(url_name "$url")
  work="$DATA_DIR/.metadata-download" # keeps a partial download for the next run
  mkdir -p -- "$work"
  EMPTY_DIRS+=("$work")
  ((FORCE)) && rm -f -- "$work/$name" "$work/$name.part"
  NOT_FOUND_HINT="check METADATA_URL"
  say "metadata: $url"
  if [[ ! -f "$work/$name" ]]; then
    download "$url" "$work/$name" "${METADATA_CHECKSUM:-}" METADATA_CHECKSUM
  fi
  case $name in
  *.zip) unzip_metadata "$work/$name" "$csv.part" ;;
  *.gz)
    gzip -dc <"$work/$name" >"$csv.part" || {
      rm -f -- "$csv.part" "$work/$name"
      die "$name is not a valid gzip file: deleted it; run again to download it afresh"
    }
    ;;
  *) mv -f -- "$work/$name" "$csv.part" ;;
  esac
  TMP_FILES+=("$csv.part")
  check_metadata_csv "$csv.part" "$work"
  mv -f -- "$csv.part" "$csv"
  rm -rf -- "$work"
  say "metadata: ready in $csv ($(human "$(file_size "$csv")"))"
}

kaggle_credentials() {
  [[ -n ${KAGGLE_USERNAME:-} && -n ${KAGGLE_KEY:-} ]] ||
    [[ -f ${KAGGLE_CONFIG_DIR:-${HOME:-/nonexistent}/.kaggle}/kaggle.json ]]
}

metadata_from_kaggle() {
  local csv="$DATA_DIR/$METADATA_NAME" work="$DATA_DIR/.kaggle-download"
  command -v kaggle >/dev/null 2>&1 ||
    die "Kaggle credentials are set but the kaggle command is not installed: pip install kaggle, then run again (or set METADATA_URL)"
  rm -rf -- "$work"
  mkdir -p -- "$work"
  TMP_FILES+=("$work")
  say "metadata: downloading $METADATA_NAME from Kaggle ($KAGGLE_DATASET)"
  kaggle datasets download "$KAGGLE_DATASET" -f "$METADATA_NAME" -p "$work" ||
    die "the Kaggle CLI failed (see above): check the credentials, and that your account can download $KAGGLE_PAGE"
  if [[ -f "$work/$METADATA_NAME.zip" ]]; then
    unzip_metadata "$work/$METADATA_NAME.zip" "$csv.part"
  elif [[ -f "$work/$METADATA_NAME" ]]; then
    mv -f -- "$work/$METADATA_NAME" "$csv.part"
  else
    die "the Kaggle CLI left no $METADATA_NAME in $work"
  fi
  TMP_FILES+=("$csv.part")
  check_metadata_csv "$csv.part" "$work"
  mv -f -- "$csv.part" "$csv"
  rm -rf -- "$work"
  say "metadata: ready in $csv ($(human "$(file_size "$csv")"))"
}

# The Kaggle movies CSV, as DATA_DIR/movies_metadata.csv.
source_metadata() {
  local csv="$DATA_DIR/$METADATA_NAME"
  if [[ -f $csv ]] && ((!FORCE)); then
    say "metadata: $csv is already there: nothing to do"
    return 0
  fi
  if [[ -n ${METADATA_URL:-} ]]; then
    metadata_from_url
  elif kaggle_credentials; then
    metadata_from_kaggle
  elif [[ -f $csv ]]; then
    say "metadata: keeping $csv (--force, but neither METADATA_URL nor Kaggle credentials are set)"
  else
    cat <<EOF
metadata: $METADATA_NAME is not in $DATA_DIR, and there is no way to fetch it here
(no METADATA_URL, no Kaggle credentials). To get it, either
  - download it from $KAGGLE_PAGE
    (a free Kaggle account; the file $METADATA_NAME) and put it in $DATA_DIR;
    into the container: docker cp $METADATA_NAME backend:/app/data/
  - or install the Kaggle CLI (pip install kaggle), save an API token from
    https://www.kaggle.com/settings as ~/.kaggle/kaggle.json (or set
    KAGGLE_USERNAME and KAGGLE_KEY), and run this script again
  - or set METADATA_URL to a copy of it (.csv, .csv.gz or .zip) and run again.
Meanwhile the bundled sample (data/sample/) runs the whole pipeline: npm run demo
EOF
  fi
}

# --- main ----------------------------------------------------------------------

positive_int() { [[ $1 =~ ^[0-9]+$ ]] && (($1 >= $2)); }

main() {
  local sources=() data_dir=${TRUEFILM_DATA_DIR:-}
  FORCE=0 KEEP_GZ=0
  while (($#)); do
    case $1 in
    -h | --help)
      usage
      exit 0
      ;;
    --source | --data-dir)
      (($# >= 2)) || usage_error "$1 needs a value"
      if [[ $1 == --source ]]; then sources+=("$2"); else data_dir=$2; fi
      shift 2
      continue
      ;;
    --source=*) sources+=("${1#*=}") ;;
    --data-dir=*) data_dir=${1#*=} ;;
    --force) FORCE=1 ;;
    --keep-gz) KEEP_GZ=1 ;;
    *) usage_error "unknown option \"$1\"" ;;
    esac
    shift
  done
  ((${#sources[@]})) || read -r -a sources <<<"$DEFAULT_SOURCES"
  local s known
  known=$(compgen -A function source_ | sed 's/^source_//' | tr '\n' ' ')
  for s in "${sources[@]}"; do
    declare -F "source_$s" >/dev/null || usage_error "--source must be one of: ${known% }; got \"$s\""
  done

  DOWNLOAD_TRIES=${DOWNLOAD_TRIES:-5}
  DOWNLOAD_RETRY_DELAY=${DOWNLOAD_RETRY_DELAY:-10}
  DECOMPRESS_RATIO=${DECOMPRESS_RATIO:-8}
  positive_int "$DOWNLOAD_TRIES" 1 || usage_error "DOWNLOAD_TRIES must be a whole number from 1, got \"$DOWNLOAD_TRIES\""
  positive_int "$DOWNLOAD_RETRY_DELAY" 0 || usage_error "DOWNLOAD_RETRY_DELAY must be a whole number of seconds, got \"$DOWNLOAD_RETRY_DELAY\""
  positive_int "$DECOMPRESS_RATIO" 1 || usage_error "DECOMPRESS_RATIO must be a whole number from 1, got \"$DECOMPRESS_RATIO\""

  command -v curl >/dev/null 2>&1 || die "curl is needed: apt-get install curl (or your system's equivalent)"
  DATA_DIR=${data_dir:-$SCRIPT_DIR/data}
  mkdir -p -- "$DATA_DIR" 2>/dev/null || die "cannot create the data directory $DATA_DIR"
  DATA_DIR=$(cd "$DATA_DIR" && pwd)
  [[ -w $DATA_DIR ]] || die "cannot write to $DATA_DIR (in the container, the data volume must belong to the node user)"

  # one run at a time per data directory
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$DATA_DIR/.data_download.lock"
    flock -n 9 || die "another data_download.sh is already working in $DATA_DIR"
  fi

  for s in "${sources[@]}"; do
    "source_$s"
  done
  summary
}

# What the pipeline will find, and what to do next.
summary() {
  local missing=()
  [[ -f $DATA_DIR/$METADATA_NAME ]] || missing+=("$METADATA_NAME")
  [[ -f $DATA_DIR/$ABSTRACTS_XML_NAME ]] || missing+=("$ABSTRACTS_XML_NAME")
  if ((${#missing[@]} == 0)); then
    say "done: $DATA_DIR holds $METADATA_NAME and $ABSTRACTS_XML_NAME. Next, the pipeline: node dist/main.js run (in the container: docker exec backend node dist/main.js --threads 8)"
  else
    say "done, but $DATA_DIR has no ${missing[*]} yet (see above). Meanwhile: npm run demo (the bundled sample)"
  fi
}

main "$@"
