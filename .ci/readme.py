"""Write README.md from nbs/index.ipynb: a quarto-free stand-in for `nbdev_readme`.

The notebook is executed in-process (execnb, as nbdev_test does); markdown cells are copied, code cells become
```python blocks followed by their text output (a cell with `#| echo: false`: its output alone, as markdown);
cells marked `#| hide` or `#| export*` are left out.
`python .ci/readme.py --check` exits 1 when README.md differs from what would be written.
"""

import re
import sys
from pathlib import Path

from execnb.nbio import read_nb
from execnb.shell import CaptureShell

ROOT = Path(__file__).resolve().parents[1]
SRC, DEST = ROOT / 'nbs' / 'index.ipynb', ROOT / 'README.md'
HEADER = '<!-- Generated from nbs/index.ipynb by .ci/readme.py: edit the notebook, not this file. -->\n\n'


def directives(src):
    "Names of the `#|` directives at the top of a code cell, and the source without them."
    lines, names = src.splitlines(), []
    while lines and lines[0].startswith('#|'):
        names.append(lines.pop(0)[2:].strip().split(':')[0].split()[0])
    return names, '\n'.join(lines).strip()


def text_output(outputs):
    "The plain-text part of a code cell's outputs."
    parts = []
    for o in outputs:
        if o.get('output_type') == 'stream':
            parts.append(''.join(o['text']))
        elif o.get('output_type') in ('execute_result', 'display_data') and 'text/plain' in o.get('data', {}):
            if 'image/png' in o['data']:
                continue
            parts.append(''.join(o['data']['text/plain']) + '\n')
        elif o.get('output_type') == 'error':
            raise RuntimeError(f"nbs/index.ipynb raised {o['ename']}: {o['evalue']}")
    return re.sub(r'\x1b\[[0-9;]*m', '', ''.join(parts)).rstrip()


def render():
    nb = read_nb(SRC)
    CaptureShell(path=SRC.parent).run_all(nb)
    out = []
    for c in nb.cells:
        if c.cell_type == 'markdown':
            out.append(c.source.strip())
            continue
        names, src = directives(c.source)
        if 'hide' in names or any(n.startswith('export') for n in names) or not src:
            continue
        if 'echo' in names:  # `#| echo: false` with `#| output: asis`: the output alone, as markdown
            out.append(text_output(c.get('outputs', [])))
            continue
        out.append(f'```python\n{src}\n```')
        if txt := text_output(c.get('outputs', [])):
            out.append(f'```\n{txt}\n```')
    return HEADER + '\n\n'.join(out) + '\n'


if __name__ == '__main__':
    new = render()
    if '--check' in sys.argv:
        if not DEST.exists() or DEST.read_text() != new:
            print('README.md is stale: run `python .ci/readme.py` and commit it.')
            sys.exit(1)
        print('README.md is up to date.')
    else:
        DEST.write_text(new)
        print(f'wrote {DEST}')
