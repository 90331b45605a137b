#!/usr/bin/env bash
# Checks deploy/ against the pghaul it ships: the YAML and JSON parse, the
# Kubernetes Job is Indexed with as many completions as shards, its
# podFailurePolicy and AWS Batch's retryStrategy name the exit codes
# `pghaul --help` documents (read from it, not written here twice), every
# flag they pass is one pghaul takes, and each password_file is in a mounted
# Secret and each password_env a secret's variable. Builds the image and runs
# `pghaul --version` in it only where `docker info` works AND
# PGHAUL_BUILD_IMAGE=1 (a build takes minutes); says which it did.
set -euo pipefail
bin=${1:?usage: check-deploy.sh PGHAUL_BINARY}
cd "$(dirname "$0")/.."
fail() { echo "check-deploy: $*" >&2; exit 1; }

# Debian's python3-yaml (scripts/install-deps.sh), or a python3 on PATH that has yaml.
py=
for p in /usr/bin/python3 python3; do
    if "$p" -c 'import yaml, tomllib' 2>/dev/null; then py=$p; break; fi
done
[ -n "$py" ] || fail "no python3 with the yaml module (Debian: python3-yaml) and tomllib (3.11+)"
for f in deploy/aws-batch/*.json; do
    "$py" -m json.tool "$f" >/dev/null || fail "$f is not valid JSON"
done

# Taken whole before use: under pipefail an early-closing reader would fail at random.
help=$("$bin" --help) || fail "$bin --help did not run"
run_help=$("$bin" run --help) || fail "$bin run --help did not run"
report_help=$("$bin" report --help) || fail "$bin report --help did not run"

"$py" - "$help" "$run_help" "$report_help" <<'PY' || exit 1
import json, re, sys, tomllib, yaml

help_text, run_help, report_help = sys.argv[1:4]
problems = []
def check(ok, what):
    if not ok:
        problems.append(what)

# "Exit codes: 0 ok, 1 internal error, 2 bad arguments or manifest, ..., 130/143 interrupted (...)."
m = re.search(r"Exit codes:(.*?)(?:\n\s*\n|\Z)", help_text, re.S)
if not m:
    sys.exit("check-deploy: pghaul --help has no \"Exit codes:\" paragraph")
meaning = {}
for item in re.split(r",\s*(?=\d)", " ".join(m.group(1).split())):
    code = re.match(r"(\d+(?:/\d+)*) (.*)", item)
    if code:
        for c in code.group(1).split("/"):
            meaning[int(c)] = code.group(2)
def codes(*starts):
    found = {c for c, text in meaning.items() if text.startswith(starts)}
    if not found:
        sys.exit(f"check-deploy: pghaul --help documents no exit code for {starts}: {meaning}")
    return found
give_up = codes("bad arguments or manifest", "preflight failed", "verification mismatch")
retry = codes("source failed", "target failed", "interrupted")

def flags_taken(args, help_of, command):
    for flag in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", " ".join(args)):
        check(re.search(r"(?<![\w-])" + re.escape(flag) + r"(?![\w-])", help_of),
              f"{command}: {flag} is not an option of pghaul {command.split()[0]} (--help)")
def shard_count(args, where):
    n = args[args.index("--shards") + 1] if "--shards" in args else None
    check(n is not None and n.isdigit(), f"{where}: no --shards N")
    return int(n) if n and n.isdigit() else None
def secrets_of(manifest, key):
    for entry in [manifest.get("target", {})] + manifest.get("source", []):
        yield entry.get(key), entry.get("name", "target")

# Kubernetes: the Indexed Job and its manifest.
docs = list(yaml.safe_load_all(open("deploy/kubernetes/indexed-job.yaml")))
jobs = [d for d in docs if d and d.get("kind") == "Job"]
check(len(jobs) == 1, "indexed-job.yaml: one Job expected")
job = jobs[0]["spec"]
pod = job["template"]["spec"]
container = pod["containers"][0]
args = [str(a) for a in container["args"]]
where = "indexed-job.yaml"
check(jobs[0].get("apiVersion") == "batch/v1", f"{where}: apiVersion is not batch/v1")
check(job.get("completionMode") == "Indexed", f"{where}: completionMode is not Indexed")
shards = shard_count(args, where)
check(job.get("completions") == shards, f"{where}: completions {job.get('completions')} but --shards {shards}")
check(0 < job.get("parallelism", 0) <= job.get("completions", 0), f"{where}: parallelism not in 1..completions")
check(isinstance(job.get("backoffLimitPerIndex"), int), f"{where}: no backoffLimitPerIndex (FailIndex needs it)")
check(pod.get("restartPolicy") == "Never", f"{where}: restartPolicy must be Never for a podFailurePolicy")
by_action = {}
for rule in job["podFailurePolicy"]["rules"]:
    exits = rule.get("onExitCodes")
    if exits:
        check(exits.get("containerName") == container["name"] and exits.get("operator") == "In",
              f"{where}: a rule not for container {container['name']} with operator In")
        by_action.setdefault(rule["action"], set()).update(exits["values"])
check(by_action.get("FailIndex") == give_up,
      f"{where}: FailIndex on {sorted(by_action.get('FailIndex', []))}, pghaul documents {sorted(give_up)}")
check(by_action.get("Count") == retry,
      f"{where}: Count (retry) on {sorted(by_action.get('Count', []))}, pghaul documents {sorted(retry)}")
flags_taken(args, run_help, "run (indexed-job.yaml)")
res = container.get("resources", {})
check("requests" in res and "limits" in res, f"{where}: resource requests and limits expected")
check(pod.get("securityContext", {}).get("runAsNonRoot") is True, f"{where}: runAsNonRoot expected")
# The manifest is the ConfigMap's file where it is mounted; its passwords are the Secret's files.
mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
volumes = {v["name"]: v for v in pod["volumes"]}
maps = {d["metadata"]["name"]: d for d in docs if d and d.get("kind") == "ConfigMap"}
manifest_arg = args[args.index("run") + 1]
manifest = None
for name, v in volumes.items():
    if "configMap" in v and manifest_arg.startswith(mounts.get(name, "//") + "/"):
        manifest = tomllib.loads(maps[v["configMap"]["name"]]["data"][manifest_arg.rsplit("/", 1)[1]])
check(manifest is not None, f"{where}: {manifest_arg} is no ConfigMap's file")
secret_dirs = [mounts[n] for n, v in volumes.items() if "secret" in v and n in mounts]
for path, who in secrets_of(manifest or {}, "password_file"):
    check(path and any(path.startswith(d + "/") for d in secret_dirs),
          f"{where}: {who}'s password_file {path} is in no mounted Secret")
check("--report" in args and any(args[args.index("--report") + 1].startswith(p + "/")
                                 for n, p in mounts.items() if "persistentVolumeClaim" in volumes.get(n, {})),
      f"{where}: the reports must go to the persistent volume")

merge = yaml.safe_load(open("deploy/kubernetes/merge-job.yaml"))
merge_args = merge["spec"]["template"]["spec"]["containers"][0]["args"]
flags_taken(merge_args, report_help, "report (merge-job.yaml)")
check(f"-of-{shards}.json" in " ".join(merge_args), "merge-job.yaml: it does not merge the reports of the 8 shards")

# AWS Batch: the job definition, the array job's submission and the manifest they run.
definition = json.load(open("deploy/aws-batch/job-definition.json"))
submit = json.load(open("deploy/aws-batch/submit-job.json"))
where = "aws-batch/job-definition.json"
props = definition["containerProperties"]
command = [str(a) for a in props["command"]]
flags_taken(command, run_help, "run (job-definition.json)")
check(definition.get("type") == "container", f"{where}: type is not container")
check(submit.get("arrayProperties", {}).get("size") == shard_count(command, where),
      "aws-batch/submit-job.json: arrayProperties.size is not the --shards count")
check(submit.get("jobDefinition") == definition["jobDefinitionName"], "submit-job.json: another job definition")
strategy = definition["retryStrategy"]
rules = strategy["evaluateOnExit"]
check(1 <= strategy["attempts"] <= 10 and 1 <= len(rules) <= 5, f"{where}: attempts 1-10 and 1-5 evaluateOnExit")
exits = {int(r["onExitCode"]) for r in rules if r["action"] == "EXIT" and r.get("onExitCode", "").isdigit()}
check(exits == give_up, f"{where}: EXIT on {sorted(exits)}, pghaul documents {sorted(give_up)}")
retried = {r.get("onExitCode") for r in rules if r["action"] == "RETRY"}
check("*" in retried or retried >= {str(c) for c in retry}, f"{where}: no RETRY for {sorted(retry)}")
secrets = {s["name"]: s["valueFrom"] for s in props.get("secrets", [])}
check(all(v.startswith("arn:aws:secretsmanager:") for v in secrets.values()), f"{where}: secrets not from Secrets Manager")
manifest = tomllib.load(open("deploy/aws-batch/fleet.toml", "rb"))
for name, who in secrets_of(manifest, "password_env"):
    check(name in secrets, f"aws-batch/fleet.toml: {who}'s password_env {name} is no secret of the job definition")
mount = props["mountPoints"][0]["containerPath"]
check(command[1].startswith(mount + "/") and command[command.index("--report") + 1].startswith(mount + "/"),
      f"{where}: the manifest and the reports must be on the mounted volume")

for p in problems:
    print("check-deploy:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
echo "check-deploy: manifests OK (exit codes and flags as pghaul --help documents them)"

if ! docker info >/dev/null 2>&1; then
    echo "check-deploy: image not built: no container engine (docker info failed)"
elif [ "${PGHAUL_BUILD_IMAGE:-}" != 1 ]; then
    echo "check-deploy: image not built: PGHAUL_BUILD_IMAGE=1 builds it (takes minutes)"
else
    tag=pghaul-check-deploy:$$
    docker build -q -f deploy/Containerfile -t "$tag" . >/dev/null || fail "the image did not build"
    version=$(docker run --rm "$tag" --version) || fail "pghaul --version did not run in the image"
    user=$(docker image inspect -f '{{.Config.User}}' "$tag")
    docker image rm "$tag" >/dev/null
    grep -q '^pghaul ' <<<"$version" || fail "pghaul --version in the image: $version"
    [[ -n $user && $user != root && $user != 0* ]] || fail "the image runs as root"
    echo "check-deploy: image built; in it: $(head -1 <<<"$version") as user $user"
fi
