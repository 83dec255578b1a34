#!/usr/bin/env bash
# Downloads what the TrueFilm pipeline reads into data/: the Kaggle movies CSV and
# the English Wikipedia abstract dump, or its CirrusSearch dump.
# ./data_download.sh --help tells the details.
#
# Layout: each thing to download is a "source", a function named source_<name>
# (source_metadata, source_abstracts, source_cirrus); --source <name> picks
# them. To add one, write source_<name>, list it in the help text, and, if it
# should run by default, in DEFAULT_SOURCES. The helpers below (download, fetch_verified,
# fetch_listing, listing_names, decompress_gz, check_space, resolve_checksum) are
# shared by all sources.
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
readonly DEFAULT_CIRRUS_BASE_URL=https://dumps.wikimedia.org/other/cirrus_search_index/
readonly CIRRUS_WIKI=enwiki
readonly CIRRUS_INDEX=${CIRRUS_WIKI}_content
# the files of a dump in today's layout: enwiki_content-20250830-00000.json.bz2
readonly CIRRUS_SHARD_RE="^${CIRRUS_INDEX}-[0-9]{8}(-[0-9]+)?\\.json\\.(bz2|gz)\$"
# lists of digests that a dump directory may publish
readonly CIRRUS_SUMS_RE='^(SHA256|SHA512|SHA1|MD5)SUMS$|(md5|sha1|sha256|sha512)sums(\.txt)?$'
# Wikimedia's User-Agent policy asks for a contact: the user's own (TRUEFILM_CONTACT), as truefilm run uses it
readonly USER_AGENT="truefilm-data-download/0.1.0 (${TRUEFILM_CONTACT:-no contact given; set TRUEFILM_CONTACT}) curl"
# the CSV is all a run needs: online, the live Wikipedia answers what a dump would (the dumps are the offline option)
readonly DEFAULT_SOURCES='metadata'

usage() {
  cat <<EOF
Usage: ./data_download.sh [options]

Downloads what \`truefilm run\` reads into data/ (beside this script, or
TRUEFILM_DATA_DIR). Three sources, chosen with --source:
  metadata    movies_metadata.csv, the Kaggle "The Movies Dataset" CSV
  abstracts   enwiki-latest-abstract.xml, the English Wikipedia abstract dump
              (of 2025-02-01, the last there is), decompressed: the file that
              \`truefilm run\` reads when it is given no --abstracts
  cirrus      the newest complete CirrusSearch dump of English Wikipedia's
              articles (the enwiki_content index), kept compressed in
              cirrus/<YYYYMMDD>/; at the end it prints the --abstracts
              arguments (and the TRUEFILM_ABSTRACTS value) that read it
By default: ${DEFAULT_SOURCES}. Work already done is skipped, so running it
again after an interruption goes on where it stopped (a partial download is
kept as <file>.part and resumed).

Which abstracts to use today
  Wikimedia stopped producing the abstract dumps in February 2025 (Phabricator
  T382069): the abstract dump is frozen at 2025-02-01, and for films its text
  is often infobox residue ("| producer =") rather than prose. The
  CirrusSearch dump is made every week from the live articles: its
  opening_text is the lead's prose, and its external links give IMDb ids,
  which match films without asking Wikidata. It is big, though: about 40 GB
  of .json.bz2 (2026: some 65 files of about 600 MB) to download and keep,
  against one .gz of the abstract dump that decompresses to about 7 GB.
  Use cirrus when you have the disk space and the bandwidth: it gives current,
  cleaner abstracts and more matches. The abstract dump is the smaller one,
  and is what \`truefilm run\` reads with no arguments.
  Neither is needed to run online: the pipeline matches the films and takes
  their abstracts from the live Wikipedia (the MediaWiki Action API,
  https://en.wikipedia.org/w/api.php), first from the dump when there is one.

Options
  --source NAME    download only this source (metadata, abstracts, cirrus);
                   repeat for several (default: ${DEFAULT_SOURCES}):
                     metadata   from METADATA_URL when set, else with the
                                Kaggle CLI when its credentials are present,
                                else it tells how to get the file
                     abstracts  from ABSTRACTS_URL: download (resumable),
                                verify its checksum, decompress
                     cirrus     from CIRRUS_BASE_URL: find the newest complete
                                date, download its files (resumable), verify
                                them, keep them compressed
  --data-dir DIR   where the files go [env TRUEFILM_DATA_DIR]
                   (default: data/ beside this script; give \`truefilm run\`
                   the same --data-dir)
  --keep-gz        keep the downloaded .gz of the abstract dump after
                   decompressing it (deleted by default: the .xml is what the
                   pipeline reads)
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
  CIRRUS_BASE_URL       the index of the CirrusSearch dumps (a directory listing
                        of YYYYMMDD/ dates); default:
                        ${DEFAULT_CIRRUS_BASE_URL}
  CIRRUS_DATE           take the dump of this date (YYYYMMDD) instead of the
                        newest complete one
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
  The naming convention of the dumps: the run directory
  https://dumps.wikimedia.org/<wiki>/<YYYYMMDD>/ holds
  <wiki>-<YYYYMMDD>-abstract.xml.gz (every page in one file), the same split in
  <wiki>-<YYYYMMDD>-abstract1.xml.gz .. abstract27.xml.gz, and the digests of
  all its files in <wiki>-<YYYYMMDD>-md5sums.txt and -sha1sums.txt;
  <wiki>/latest/<wiki>-latest-abstract.xml.gz was the newest run's copy. The
  download is saved as enwiki-latest-abstract.xml, the name the pipeline reads.
  dumps.wikimedia.org keeps only its last few runs: when the default URL
  answers 404, take the same file from a mirror listed at
  https://dumps.wikimedia.org/mirrors.html or from the Internet Archive, and
  set ABSTRACTS_URL (and ABSTRACTS_CHECKSUM when the mirror has no digests).

The CirrusSearch dump: what this script expects of the server
  (from public descriptions of dumps.wikimedia.org, not checked against it
  here: if it has changed, the script stops with a message saying what it
  did not find)
  - CIRRUS_BASE_URL is an HTML directory listing of dates, YYYYMMDD/, one a
    week; about four weeks are kept.
  - <date>/index_name=enwiki_content/ lists the files of the English
    articles' index, enwiki_content-<date>-00000.json.bz2, -00001... (each
    Elasticsearch bulk NDJSON: an action line, then the document), and a file
    _SUCCESS once all of them are published, about 12 hours after the
    directory appears. A date without _SUCCESS is not complete: it is
    skipped for the date before it.
  - The older layout, https://dumps.wikimedia.org/other/cirrussearch/ (no
    longer updated since January 2026), is read too, for mirrors that keep
    it: <date>/enwiki-<date>-cirrussearch-content.json.gz, one file with no
    completion marker.
  - No checksums are published beside these files today. A digest file that
    a listing shows is used (<file>.sha256, .sha512, .sha1, .md5, SHA256SUMS,
    *-md5sums.txt...); otherwise each file is checked against the size the
    server announces and its bzip2/gzip header.
  The files are fetched one at a time (dumps.wikimedia.org allows few
  connections per address) into cirrus/<date>.part/, which becomes
  cirrus/<date>/ once every file is there and checked. The free space for the
  whole dump is checked before the first byte. The pipeline reads the .gz
  itself and the .bz2 through lbzip2 or bzip2 (apt-get install lbzip2).

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
EMPTY_DIRS=() # removed on exit when empty, the last one first
cleanup() {
  local f
  for f in ${TMP_FILES[@]+"${TMP_FILES[@]}"}; do rm -rf -- "$f"; done
  local i
  for ((i = ${#EMPTY_DIRS[@]} - 1; i >= 0; i--)); do rmdir -- "${EMPTY_DIRS[i]}" 2>/dev/null || true; done
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

# new_tmp_dir VAR: a temporary directory, removed on exit, named in VAR
new_tmp_dir() {
  local d
  d=$(mktemp -d "${TMPDIR:-/tmp}/data_download.XXXXXX") || die "cannot create a temporary directory in ${TMPDIR:-/tmp}"
  TMP_FILES+=("$d")
  printf -v "$1" '%s' "$d"
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

# Fetches a directory listing (a small page), trying again on a passing
# failure: fetch_listing URL OUT. Returns 0, 10 (404/410: not there) or 1 (no
# answer after DOWNLOAD_TRIES attempts; the reason is in HTTP_ERROR).
fetch_listing() {
  local url=$1 out=$2 try=1 rc
  while :; do
    rc=0
    http_small "$url" "$out" || rc=$?
    ((rc == 0 || rc == 10)) && return "$rc"
    ((try >= DOWNLOAD_TRIES)) && return 1
    warn "could not fetch $url ($HTTP_ERROR): trying again"
    try=$((try + 1))
    sleep "$DOWNLOAD_RETRY_DELAY"
  done
}

# %3D -> "=" (a backslash stays a backslash)
url_decode() {
  local s=${1//\\/\\\\}
  printf '%b\n' "${s//%/\\x}"
}

# The entries of an HTML directory listing (nginx's or Apache's autoindex),
# one a line, from its links: the last path segment, percent-decoded, with a
# trailing "/" for a directory; "../", sort links and other pages left out.
# listing_names FILE
listing_names() {
  local href name
  { grep -oiE "href=(\"[^\"]*\"|'[^']*')" "$1" || true; } | sed -E 's/^[^=]*=.//; s/.$//' |
    while IFS= read -r href; do
      href=${href%%[?#]*}
      if [[ $href == */ ]]; then
        name=${href%/}
        name=${name##*/}/
      else
        name=${href##*/}
      fi
      [[ -z $name || $name == / || $name == ./ || $name == ../ ]] && continue
      url_decode "$name"
    done
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

# The digest of NAME in a checksum file, in lower case (empty when it holds
# none): "<hex>  <name>" / "<hex> *<name>" lines, or a lone "<hex>" (unless
# the third argument is "named"). digest_in_file NAME FILE [named]
digest_in_file() {
  tr -d '\r' <"$2" | awk -v n="$1" -v named="${3:-}" '
    NF >= 2 && ($2 == n || $2 == "*" n) { print $1; exit }
    NF == 1 && NR == 1 && named == "" { lone = $1 }
    END { if (lone != "") print lone }' | head -n 1 | tr 'A-F' 'a-f'
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
    hex=$(digest_in_file "$name" "$body")
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
  local url=$1 dest=$2 given=$3 var=$4 name
  name=$(url_name "$url")

  # a digest given is checked before any request; the file is asked for before
  # any digest published beside it, so that a missing file is what is reported
  [[ -n $given ]] && resolve_checksum "$url" "$given" "$var"
  remote_size "$url"
  [[ -z $given ]] && resolve_checksum "$url" "$given" "$var"
  fetch_verified "$url" "$dest" "no checksum is published beside $name (and $var is not set): not verified"
}

# The transfer itself, once the caller has set REMOTE_SIZE (remote_size) and
# CHECK_ALGO, CHECK_HEX, CHECK_FROM (empty: nothing to verify against):
# fetch_verified URL DEST WARNING_WHEN_UNVERIFIED
# Resumes DEST.part; DEST appears only once complete and verified.
fetch_verified() {
  local url=$1 dest=$2 unverified=$3
  local part="$dest.part" name have
  name=$(url_name "$url")
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
  elif [[ -n $unverified ]]; then
    warn "$unverified"
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

# --- the CirrusSearch dump -------------------------------------------------------

CIRRUS_FILES=()        # the files ready for the pipeline, once source_cirrus is done
CIRRUS_SHARDS=()       # the files of the dump being looked at (cirrus_locate)
CIRRUS_DIR_URL=        # the directory that holds them
CIRRUS_NAMES=          # a file: the entries of its listing
CIRRUS_SKIP=           # why that dump cannot be used (empty: it can)
CIRRUS_SUMS_DIR=       # the checksum files fetched, by name

# Sets CIRRUS_SHARDS from the names in a file that match a pattern, in shard
# order; a .bz2 with a .gz twin is left out: read_shards NAMES_FILE REGEX
read_shards() {
  local name
  CIRRUS_SHARDS=()
  while IFS= read -r name; do
    [[ $name == *.bz2 ]] && grep -qxF -- "${name%.bz2}.gz" "$1" && continue
    CIRRUS_SHARDS+=("$name")
  done < <(grep -E -- "$2" "$1" | sort -u | sort -t- -k3,3n)
}

# Finds the content dump of one date: cirrus_locate BASE_URL DATE. Sets
# CIRRUS_DIR_URL, CIRRUS_SHARDS, CIRRUS_NAMES, and CIRRUS_SKIP when that date
# cannot be used (not complete yet, no enwiki content in it).
cirrus_locate() {
  local base=$1 date=$2 listing rc=0
  CIRRUS_SKIP='' CIRRUS_SHARDS=()
  new_tmp listing
  new_tmp CIRRUS_NAMES
  # today's layout: <date>/index_name=enwiki_content/ (the "=" written %3D, as
  # the server's own links do)
  CIRRUS_DIR_URL="$base$date/index_name%3D${CIRRUS_INDEX}/"
  fetch_listing "$CIRRUS_DIR_URL" "$listing" || rc=$?
  if ((rc == 0)); then
    listing_names "$listing" >"$CIRRUS_NAMES"
    read_shards "$CIRRUS_NAMES" "$CIRRUS_SHARD_RE"
    if ! grep -qx '_SUCCESS' "$CIRRUS_NAMES"; then
      CIRRUS_SKIP="not complete yet: no _SUCCESS marker in $CIRRUS_DIR_URL (${#CIRRUS_SHARDS[@]} file(s) so far)"
    elif ((${#CIRRUS_SHARDS[@]} == 0)); then
      die "$CIRRUS_DIR_URL is marked complete (_SUCCESS) but lists no ${CIRRUS_WIKI} content shard (${CIRRUS_INDEX}-$date-NNNNN.json.bz2 or .json.gz): the layout of the dumps has changed, or this is not a CirrusSearch dump. See ./data_download.sh --help; CIRRUS_BASE_URL and CIRRUS_DATE choose another dump."
    fi
    return 0
  fi
  ((rc == 10)) || die "could not list $CIRRUS_DIR_URL: $HTTP_ERROR. Run again later."

  # the older layout, no longer updated: <date>/enwiki-<date>-cirrussearch-content.json.gz
  CIRRUS_DIR_URL="$base$date/"
  rc=0
  fetch_listing "$CIRRUS_DIR_URL" "$listing" || rc=$?
  case $rc in
  0) ;;
  10)
    CIRRUS_SKIP="$CIRRUS_DIR_URL is not there (HTTP 404)"
    return 0
    ;;
  *) die "could not list $CIRRUS_DIR_URL: $HTTP_ERROR. Run again later." ;;
  esac
  listing_names "$listing" >"$CIRRUS_NAMES"
  read_shards "$CIRRUS_NAMES" "^${CIRRUS_WIKI}-$date-cirrussearch-content\.json\.(bz2|gz)\$"
  if ((${#CIRRUS_SHARDS[@]} == 0)); then
    CIRRUS_SKIP="it holds no ${CIRRUS_WIKI} content dump (neither index_name=${CIRRUS_INDEX}/ nor ${CIRRUS_WIKI}-$date-cirrussearch-content.json.gz)"
  fi
}

# The checksum files that the listing of the dump's directory shows, best first
# for FILE: FILE.sha256 .sha512 .sha1 .md5, then SHA256SUMS, *-md5sums.txt...
# None is asked for blindly. cirrus_digest_files FILE
cirrus_digest_files() {
  local ext
  for ext in sha256 sha512 sha1 md5; do
    if grep -qxF -- "$1.$ext" "$CIRRUS_NAMES"; then printf '%s\n' "$1.$ext"; fi
  done
  grep -E -- "$CIRRUS_SUMS_RE" "$CIRRUS_NAMES" | grep -E '^[A-Za-z0-9._-]+$' | sort -u || true
}

# Sets CHECK_ALGO, CHECK_HEX, CHECK_FROM for one file of the dump from the
# checksum files its directory publishes (empty when none names it):
# cirrus_checksum FILE
cirrus_checksum() {
  local file=$1 sums url cache rc hex algo
  CHECK_ALGO='' CHECK_HEX='' CHECK_FROM=''
  while IFS= read -r sums; do
    url=$CIRRUS_DIR_URL$sums
    cache=$CIRRUS_SUMS_DIR/$sums
    if [[ ! -f $cache ]]; then
      rc=0
      http_small "$url" "$cache.tmp" || rc=$?
      case $rc in
      0) mv -f -- "$cache.tmp" "$cache" ;;
      10) : >"$cache" ;;
      *) die "could not fetch the checksum file $url: $HTTP_ERROR. Run again later." ;;
      esac
    fi
    if [[ $sums == "$file".* ]]; then
      hex=$(digest_in_file "$file" "$cache")
    else # a list of many files: only a line naming this one counts
      hex=$(digest_in_file "$file" "$cache" named)
    fi
    algo=$(algo_of "$hex")
    if [[ -n $algo ]]; then
      CHECK_ALGO=$algo CHECK_HEX=$hex CHECK_FROM=$url
      return 0
    fi
  done < <(cirrus_digest_files "$file")
}

# Checks that FILE starts as its name says (.gz: 1f 8b, .bz2: "BZh"): an error
# page saved under a shard's name is deleted. check_magic FILE
check_magic() {
  local file=$1 head want
  head=$(od -An -tx1 -N3 "$file" | tr -d ' \n')
  case $file in
  *.gz)
    [[ $head == 1f8b* ]] && return 0
    want=gzip
    ;;
  *.bz2)
    [[ $head == 425a68 ]] && return 0
    want=bzip2
    ;;
  *) return 0 ;;
  esac
  rm -f -- "$file"
  die "$(basename "$file") is not a $want file (it starts with the bytes ${head:-nothing}): deleted it; run again to download it afresh"
}

# The complete downloads in the cirrus directory, newest first.
cirrus_local_dates() {
  local d
  for d in "$1"/[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]; do
    if [[ -d $d ]]; then printf '%s\n' "${d##*/}"; fi
  done | sort -r
}

# Downloads the files of the dump found by cirrus_locate into ROOT/DATE.part/,
# then renames that directory ROOT/DATE: cirrus_fetch ROOT DATE
cirrus_fetch() {
  local root=$1 date=$2
  local final="$root/$date" work="$root/$date.part" n=${#CIRRUS_SHARDS[@]}
  if ((FORCE)); then rm -rf -- "$final" "$work"; fi
  mkdir -p -- "$work"
  EMPTY_DIRS+=("$work")
  say "cirrus: taking the dump of $date: $n file(s) in $CIRRUS_DIR_URL"

  # every size first: the free space is checked for the whole dump before any
  # of it is fetched (the real one is tens of GB)
  local shard sizes=() need=0 have i
  for shard in "${CIRRUS_SHARDS[@]}"; do
    if [[ -f $work/$shard ]]; then
      sizes+=(present)
      continue
    fi
    remote_size "$CIRRUS_DIR_URL$shard"
    sizes+=("$REMOTE_SIZE")
    if [[ -n $REMOTE_SIZE ]]; then
      have=$(file_size "$work/$shard.part")
      if ((REMOTE_SIZE > have)); then need=$((need + REMOTE_SIZE - have)); fi
    fi
  done
  check_space "$work" "$need" "download the $date ${CIRRUS_INDEX} dump ($n file(s))"

  new_tmp_dir CIRRUS_SUMS_DIR
  local unverified
  if [[ -z $(grep -E -- "$CIRRUS_SUMS_RE|\.(sha256|sha512|sha1|md5)\$" "$CIRRUS_NAMES" || true) ]]; then
    warn "$CIRRUS_DIR_URL publishes no checksums: each file is checked against the size the server announces and its compression header"
  fi
  for i in "${!CIRRUS_SHARDS[@]}"; do
    shard=${CIRRUS_SHARDS[i]}
    if [[ ${sizes[i]} == present ]]; then
      say "cirrus: [$((i + 1))/$n] $shard is already downloaded and checked"
      continue
    fi
    say "cirrus: [$((i + 1))/$n] $shard"
    REMOTE_SIZE=${sizes[i]}
    cirrus_checksum "$shard"
    unverified=''
    [[ -n $(cirrus_digest_files "$shard") ]] && unverified="no checksum file in $CIRRUS_DIR_URL names $shard: not verified"
    fetch_verified "$CIRRUS_DIR_URL$shard" "$work/$shard" "$unverified"
    check_magic "$work/$shard"
  done

  {
    printf 'url=%s\ndate=%s\n' "$CIRRUS_DIR_URL" "$date"
    printf 'file=%s\n' "${CIRRUS_SHARDS[@]}"
  } >"$work/.source"
  mv -- "$work" "$final"
  cirrus_ready "$final" "$date"
}

# Sets CIRRUS_FILES to the dump's files in DIR, in shard order, and says what
# is there: cirrus_ready DIR DATE
cirrus_ready() {
  local dir=$1 date=$2 f names=() bytes=0
  for f in "$dir"/*; do
    if [[ -f $f ]]; then names+=("${f##*/}"); fi
  done
  CIRRUS_FILES=()
  while IFS= read -r f; do
    CIRRUS_FILES+=("$dir/$f")
    bytes=$((bytes + $(file_size "$dir/$f")))
  done < <(printf '%s\n' ${names[@]+"${names[@]}"} |
    grep -E -- "$CIRRUS_SHARD_RE|^${CIRRUS_WIKI}-[0-9]{8}-cirrussearch-content\.json\.(bz2|gz)\$" | sort -t- -k3,3n)
  ((${#CIRRUS_FILES[@]})) || die "$dir holds no file of a CirrusSearch dump: remove it (rm -r $dir) and run again"
  say "cirrus: ready: ${#CIRRUS_FILES[@]} file(s) of the dump of $date in $dir ($(human "$bytes")), kept compressed"

  if [[ ${CIRRUS_FILES[0]} == *.bz2 ]] && ! command -v lbzip2 >/dev/null 2>&1 &&
    ! command -v pbzip2 >/dev/null 2>&1 && ! command -v bzip2 >/dev/null 2>&1; then
    warn "the pipeline reads .bz2 files through lbzip2 or bzip2, and none is installed here: apt-get install lbzip2 (or bzip2)"
  fi
  local others=()
  for f in "${dir%/*}"/*; do
    if [[ -d $f && $f != "$dir" ]]; then others+=("$f"); fi
  done
  if ((${#others[@]})); then
    say "cirrus: not used by these files, and taking disk space: ${others[*]} (rm -r them when you no longer need them)"
  fi
}

# The English Wikipedia CirrusSearch content dump, newest complete date, as
# DATA_DIR/cirrus/<YYYYMMDD>/*.json.bz2, kept compressed.
source_cirrus() {
  local base=${CIRRUS_BASE_URL:-$DEFAULT_CIRRUS_BASE_URL}
  check_url "$base" CIRRUS_BASE_URL
  base=${base%%[?#]*}
  base=${base%/}/
  local root="$DATA_DIR/cirrus" dates=() date
  mkdir -p -- "$root"
  EMPTY_DIRS+=("$root")
  NOT_FOUND_HINT="the dump may have been removed since its listing was read (dumps.wikimedia.org keeps about four weeks of CirrusSearch dumps): run again to take the newest complete one"
  say "cirrus: the ${CIRRUS_INDEX} CirrusSearch dump from $base"

  if [[ -n ${CIRRUS_DATE:-} ]]; then
    dates=("$CIRRUS_DATE")
  else
    local listing rc=0
    new_tmp listing
    fetch_listing "$base" "$listing" || rc=$?
    case $rc in
    0) ;;
    10) die "not found (HTTP 404): $base. Check CIRRUS_BASE_URL (see --help)" ;;
    *)
      date=$(cirrus_local_dates "$root" | head -n 1)
      if [[ -n $date ]] && ((!FORCE)); then
        warn "cannot list the CirrusSearch dumps at $base ($HTTP_ERROR): using the complete download of $date already here"
        cirrus_ready "$root/$date" "$date"
        return 0
      fi
      die "cannot list the CirrusSearch dumps at $base: $HTTP_ERROR. Check the address (CIRRUS_BASE_URL) and the network, then run again."
      ;;
    esac
    while IFS= read -r date; do
      dates+=("$date")
    done < <(listing_names "$listing" | sed -n -E 's#^([0-9]{8})/$#\1#p' | sort -ru)
    ((${#dates[@]})) ||
      die "the listing of $base holds no dump date (a YYYYMMDD/ directory): is CIRRUS_BASE_URL the index of the CirrusSearch dumps? (see --help)"
  fi

  local skipped=()
  for date in "${dates[@]}"; do
    if [[ -d $root/$date ]] && ((!FORCE)); then
      say "cirrus: the dump of $date is already complete in $root/$date: nothing to do"
      cirrus_ready "$root/$date" "$date"
      return 0
    fi
    cirrus_locate "$base" "$date"
    if [[ -z $CIRRUS_SKIP ]]; then
      cirrus_fetch "$root" "$date"
      return 0
    fi
    say "cirrus: skipping $date: $CIRRUS_SKIP"
    skipped+=("$date: $CIRRUS_SKIP")
  done
  if [[ -n ${CIRRUS_DATE:-} ]]; then
    die "the CirrusSearch dump of CIRRUS_DATE=$CIRRUS_DATE cannot be used: ${skipped[0]#*: }"
  fi
  die "no complete ${CIRRUS_WIKI} content dump at $base (looked at ${#dates[@]} date(s), see above). Run again later, or see ./data_download.sh --help"
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
  [[ -z ${CIRRUS_DATE:-} || $CIRRUS_DATE =~ ^[0-9]{8}$ ]] || usage_error "CIRRUS_DATE must be a dump date as YYYYMMDD, got \"$CIRRUS_DATE\""

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
  if ((${#CIRRUS_FILES[@]} == 0)); then
    [[ -f $DATA_DIR/$ABSTRACTS_XML_NAME ]] || missing+=("$ABSTRACTS_XML_NAME")
    if ((${#missing[@]} == 0)); then
      say "done: $DATA_DIR holds $METADATA_NAME and $ABSTRACTS_XML_NAME. Next, the pipeline: node dist/main.js run (in the container: docker exec backend node dist/main.js --threads 8)"
    else
      say "done, but $DATA_DIR has no ${missing[*]} yet (see above). Meanwhile: npm run demo (the bundled sample)"
    fi
    return 0
  fi

  # the CirrusSearch files: the exact arguments that read them
  local f args=() joined=''
  for f in "${CIRRUS_FILES[@]}"; do
    args+=(--abstracts "$f")
    joined+=${joined:+:}$f
  done
  if ((${#missing[@]} == 0)); then
    say "done: $DATA_DIR holds $METADATA_NAME and the CirrusSearch dump (${#CIRRUS_FILES[@]} file(s) in ${CIRRUS_FILES[0]%/*})."
  else
    say "done, but $DATA_DIR has no ${missing[*]} yet (./data_download.sh --source metadata tells how to get it). The CirrusSearch dump is ready (${#CIRRUS_FILES[@]} file(s) in ${CIRRUS_FILES[0]%/*})."
  fi
  say "To read it, run the pipeline with these arguments (in the container: docker exec backend ...):"
  printf '  node dist/main.js'
  printf ' %q' "${args[@]}"
  printf '\n'
  say "or set the environment instead:"
  printf '  TRUEFILM_ABSTRACTS=%q\n' "$joined"
}

main "$@"
