#!/usr/bin/env python3
"""Records Boundary's verdict on each probe into ORACLE, from the oracle's hclv1 program
(genuine HCL v1 + configutil code, ../shared/oracle beside the repository).

Usage, from this directory:  python3 record.py PATH/TO/hclv1
Build hclv1 with: ORACLE_BIN=$REPO/target/oracle ../shared/oracle/build.sh
"""
import json, os, subprocess, sys, glob, tempfile
oracle = sys.argv[1]
home = tempfile.mkdtemp()
env = {"PATH": os.environ["PATH"], "HOME": home, "AWS_EC2_METADATA_DISABLED": "true",
       "AWS_CONFIG_FILE": home + "/x", "AWS_SHARED_CREDENTIALS_FILE": home + "/y"}
out = ["# Boundary's verdict on each probe, recorded from the oracle (shared/oracle/hclv1, genuine HCL v1",
       "# + configutil code) by record.py. One line each:",
       "# NAME valid|invalid JSON-list-of-[purpose, type, key_id] (sorted); for invalid, the stage and error follow #.",
       ""]
for f in sorted(glob.glob("*.hcl") + glob.glob("*.json")):
    p = subprocess.run([oracle, f], env=env, capture_output=True)
    d = json.loads(p.stdout)
    ws = sorted([w["purpose"], w["type"], w["key_id"]] for w in d["wrappers"])
    if d["valid"]:
        out.append("%s valid %s" % (f, json.dumps(ws, ensure_ascii=False)))
    else:
        err = (d.get("stage") or "") + ": " + (d.get("error") or "").replace("\n", " ")
        out.append("%s invalid [] # %s" % (f, err[:160]))
open("ORACLE", "w").write("\n".join(out) + "\n")
