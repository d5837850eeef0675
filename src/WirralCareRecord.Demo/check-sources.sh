#!/usr/bin/env bash
# Manual check of the demo's synthetic sources, without the gateway: starts them with --sources-only, and for
# each source reads its CapabilityStatement, finds a Patient by NHS number, reads it back, pages through its
# Observations by following next links, and checks the errors are OperationOutcomes. Then stops the demo.
# Needs curl and jq. Usage: src/WirralCareRecord.Demo/check-sources.sh [extra demo options, e.g. --record-size 3]
set -euo pipefail

demo_dir=$(cd "$(dirname "$0")" && pwd)
dotnet build "$demo_dir" -nologo -v quiet >/dev/null

log=$(mktemp)
dotnet "$demo_dir/bin/Debug/net10.0/WirralCareRecord.Demo.dll" --sources-only "$@" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT

for _ in $(seq 60); do grep -q 'Press Ctrl+C' "$log" && break; sleep 1; done
grep -q 'Press Ctrl+C' "$log" || { cat "$log"; echo "the demo sources did not start"; exit 1; }

passed=0
failed=0
check() { # description, then a command that must succeed
    local what=$1; shift
    if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what"; fi
}
fhir() { curl -sf -H 'Accept: application/fhir+json' "$1"; }
status_and_type() { # "404 OperationOutcome"
    local response
    response=$(curl -s -w '\n%{http_code}' "$1")
    echo "$(tail -n 1 <<<"$response") $(head -n -1 <<<"$response" | jq -r .resourceType)"
}

while read -r ods rest; do
    base=$(grep -oE 'http://127\.0\.0\.1:[0-9]+/fhir' <<<"$rest")
    echo "$ods $base"
    check "$ods metadata is an R4 CapabilityStatement" jq -e '.resourceType == "CapabilityStatement" and .fhirVersion == "4.0.1"' <(fhir "$base/metadata")

    nhs=$(fhir "$base/Patient?_count=1" | jq -r '.entry[0].resource.identifier[] | select(.system == "https://fhir.nhs.uk/Id/nhs-number") | .value')
    search=$(fhir "$base/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number%7C$nhs")
    id=$(jq -r '.entry[0].resource.id' <<<"$search")
    check "$ods finds NHS number $nhs" jq -e --arg u "$base/Patient/$id" '.type == "searchset" and .total == 1 and .entry[0].fullUrl == $u' <<<"$search"
    check "$ods reads Patient/$id" jq -e --arg id "$id" '.resourceType == "Patient" and .id == $id' <(fhir "$base/Patient/$id")

    url="$base/Observation?patient=Patient/$id&_count=5"
    seen=0
    total=
    pages=0
    while [[ -n "$url" ]]; do
        page=$(fhir "$url")
        total=$(jq -r .total <<<"$page")
        seen=$((seen + $(jq '.entry // [] | length' <<<"$page")))
        pages=$((pages + 1))
        url=$(jq -r '[.link[] | select(.relation == "next") | .url][0] // empty' <<<"$page")
        [[ -z "$url" || "$url" == "$base/"* ]] || { echo "FAIL: $ods next link leaves the source: $url"; failed=$((failed + 1)); break; }
    done
    check "$ods pages Observations ($seen of $total in $pages pages)" test "$seen" -eq "$total"

    check "$ods unknown type is 400 OperationOutcome" test "$(status_and_type "$base/Foo?patient=$id")" = "400 OperationOutcome"
    check "$ods missing read is 404 OperationOutcome" test "$(status_and_type "$base/Condition/does-not-exist")" = "404 OperationOutcome"
    check "$ods unknown patient is an empty searchset" jq -e '.total == 0' <(fhir "$base/Condition?patient=does-not-exist")
done < <(grep -oE '^  [A-Z0-9]+ .*http://127\.0\.0\.1:[0-9]+/fhir' "$log")

echo "$passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
