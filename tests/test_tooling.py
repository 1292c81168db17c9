"""The notebook tooling keeps what papermill needs."""

import json

from nbdev.clean import nbdev_clean


def test_nbdev_clean_keeps_papermill_tags(tmp_path):
    nb = {
        'cells': [
            {
                'cell_type': 'code',
                'execution_count': 3,
                'id': 'x',
                'outputs': [],
                'source': 'n = 1',
                'metadata': {'tags': ['parameters'], 'collapsed': True},
            }
        ],
        'metadata': {'kernelspec': {'name': 'python3', 'display_name': 'python3', 'language': 'python'}},
        'nbformat': 4,
        'nbformat_minor': 5,
    }
    p = tmp_path / 'params.ipynb'
    p.write_text(json.dumps(nb))
    nbdev_clean(fname=str(p))  # reads this project's settings.ini, as the CLI does
    cell = json.loads(p.read_text())['cells'][0]
    assert cell['metadata'] == {'tags': ['parameters']}, cell['metadata']
    assert cell['execution_count'] is None
