#!/usr/bin/env bash
set -uo pipefail
source .gpu/env.sh
cp=$(printf '%s:' .gpu/app/*.jar); cp=${cp%:}
mkdir -p $OUT; cat .gpu/commit
T() { timeout $2 java -Xmx60g --enable-native-access=ALL-UNNAMED -jar .gpu/app/junit-platform-console-standalone-1.14.1.jar execute -cp "$cp" --include-tag gpu --select-class $1 --disable-banner --details=tree > /tmp/${1##*.}.log 2>&1; echo "${1##*.} exit $?"; grep -E "✘|tests (successful|failed)" /tmp/${1##*.}.log | head -12; grep -B2 -A8 "✘" /tmp/${1##*.}.log | grep -v "^\s*at " | head -30; }
summ() { python3 - $1 <<'PY'
import json,sys
for line in open(sys.argv[1]).read().strip().splitlines():
    o=json.loads(line)
    print(o["recipe"], "median", round(o["step_ms_median"],1), "range", round(o["step_ms_min"],1), round(o["step_ms_max"],1), "tok/s", round(o["tokens_per_s"]), "tflops", round(o["model_tflops"],1), "mib", o["device_used_peak_bytes"]>>20)
    if "profile" not in o: continue
    for f in o["profile"]["families"]: print("  ", f["family"], f["launches"], round(f["ms"],2), round(f.get("tflops", f.get("gb_per_s",0)),1))
    ks=sorted(o["profile"]["kernels"], key=lambda k:-k["ms"])
    for k in ks[:6]: print("    %-96s %4d %7.2f %8.1f" % (k["kernel"][:96], k["launches"], k["ms"], k.get("tflops", k.get("gb_per_s",0))))
PY
}
quant() { python3 - $1 <<'PY'
import json,sys
for line in open(sys.argv[1]).read().strip().splitlines():
    o=json.loads(line)
    if o['recipe']!='infir2': continue
    for k in sorted(o['profile']['kernels'], key=lambda k:-k['ms']):
        n=k['kernel']
        if 'swiglu' in n or 'quantize' in n or 'norm' in n or 'gelu' in n:
            print('  %-90s %4d %7.2f %8.1f'%(n[:90],k['launches'],k['ms'],k.get('gb_per_s',0)))
PY
}
date +%T
T dev.octet.gpu.kernels.RecomputedQuantizationGpuTest 100
T dev.octet.gpu.kernels.QuantizeKernelsGpuTest 120
date +%T
for m in qwen2.5-1.5b-cpt gpt2-124m-pretrain; do
timeout 200 java --enable-native-access=ALL-UNNAMED -cp "$cp" dev.octet.cli.OctetMain bench examples/$m.octet --recipe bf16 --recipe infir2 --steps 5 --warmup 2 --no-cold-compile --profile --json > $OUT/$m-profile.json 2> /tmp/$m-profile.err; echo "bench $m $?"
summ $OUT/$m-profile.json; quant $OUT/$m-profile.json; tail -1 /tmp/$m-profile.err
date +%T
done


date +%T
