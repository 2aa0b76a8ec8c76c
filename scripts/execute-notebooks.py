#!/usr/bin/env python3
"""Executes Jupyter notebooks headless with nbclient, one fresh kernel per notebook, in order.

Called by `cifar-ssl notebooks` (lib/report/notebooks.ts), which sets JUPYTER_PATH to the
project's kernelspec. Usage:

    execute-notebooks.py --kernel tslab --timeout 3600 --cwd DIR --report FILE IN OUT [IN OUT ...]

A notebook that runs through is written to OUT. One that fails stops the run; it is written to
OUT only when OUT is not IN, so a failed in-place run leaves the notebook as it was. FILE gets a
JSON list with one entry per notebook tried: {notebook, output, ok, seconds, error}.
"""
import argparse
import json
import os
import sys
import tempfile
import time
import warnings

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

# Notebooks saved by older front ends lack cell ids; nbformat adds them, the warning is noise here.
warnings.filterwarnings("ignore", message=".*missing an id field.*")


def write_atomic(nb, path):
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".ipynb", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        nbformat.write(nb, f)
    os.replace(tmp, path)


def cell_error(nb, index, err):
    """What went wrong in cell `index`: tslab reports compile errors on stderr, runtime ones as an error."""
    cell = nb.cells[index]
    stderr = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stderr")
    return {
        "cell": index + 1,
        "source": cell.source.strip().splitlines()[0] if cell.source.strip() else "",
        "ename": getattr(err, "ename", type(err).__name__),
        "evalue": getattr(err, "evalue", str(err).strip().splitlines()[-1] if str(err).strip() else ""),
        "stderr": stderr.strip(),
    }


def execute(source, output, kernel, timeout, cwd):
    nb = nbformat.read(source, as_version=4)
    current = {"index": 0}

    def on_cell_start(cell, cell_index):
        current["index"] = cell_index

    client = NotebookClient(
        nb, timeout=timeout, kernel_name=kernel, resources={"metadata": {"path": cwd}},
        on_cell_start=on_cell_start,
    )
    started = time.time()
    result = {"notebook": source, "output": output, "ok": True, "seconds": 0.0, "error": None}
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        result["ok"] = False
        result["error"] = cell_error(nb, current["index"], err)
    result["seconds"] = round(time.time() - started, 1)
    if result["ok"] or os.path.abspath(output) != os.path.abspath(source):
        write_atomic(nb, output)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernel", default="tslab")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell (-1: none)")
    parser.add_argument("--cwd", default=os.getcwd(), help="working folder of the kernel")
    parser.add_argument("--report", required=True, help="JSON file for the per-notebook results")
    parser.add_argument("pairs", nargs="+", help="input and output notebook paths, alternating")
    args = parser.parse_args()
    if len(args.pairs) % 2:
        parser.error("notebooks come in pairs: IN OUT")
    results = []
    for source, output in zip(args.pairs[0::2], args.pairs[1::2]):
        print(f"{os.path.basename(source)} ...", flush=True)
        result = execute(source, output, args.kernel, None if args.timeout < 0 else args.timeout, args.cwd)
        results.append(result)
        status = "ok" if result["ok"] else f"FAILED in cell {result['error']['cell']}"
        print(f"{os.path.basename(source)}: {status} ({result['seconds']} s)", flush=True)
        if not result["ok"]:
            break
    with open(args.report, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
