"""API reference pages from the docstrings (pdoc), one HTML page per module.

  pip install -e '.[docs]' && python docs/build_api.py /tmp/disent_bias_api

Documents the library (``disent_bias`` and its subpackages), not the
binaries' flag handling in ``disent_bias.cli`` (``disent-bias-NAME --help``
lists their flags). Start at ``index.html`` (or ``disent_bias.html``).
Problems pdoc reports (a docstring it cannot parse, a module that does not
import) are Python warnings; ``tests/api_docs_test.py`` builds with
warnings turned into errors.
"""

import pathlib
import pkgutil
import re
import sys

# Not documented: the binaries' absl mains (flags defined at import).
EXCLUDED = ('disent_bias.cli',)


def _excluded(name: str) -> bool:
  """Whether ``name`` is in (or under) ``EXCLUDED``."""
  return any(name == e or name.startswith(e + '.') for e in EXCLUDED)


def module_specs() -> list[str]:
  """pdoc's module specifications: every module of the library but
  ``EXCLUDED``, also those a package's ``__all__`` leaves out of its page
  (such as ``disent_bias.data.export``), each named once."""
  import pdoc.extract  # pylint: disable=g-import-not-at-top
  import disent_bias  # pylint: disable=g-import-not-at-top
  specs = ['disent_bias']
  covered = set(pdoc.extract.walk_specs(specs))
  for info in pkgutil.walk_packages(disent_bias.__path__, 'disent_bias.'):
    if info.name not in covered and not _excluded(info.name):
      specs.append(info.name)
      covered.update(pdoc.extract.walk_specs([info.name]))
  return specs + [f'!{re.escape(name)}(\\..*)?$' for name in EXCLUDED]


def build(output_directory: str | pathlib.Path) -> list[pathlib.Path]:
  """Writes the HTML pages under ``output_directory``; returns their paths."""
  import pdoc  # pylint: disable=g-import-not-at-top
  import pdoc.render  # pylint: disable=g-import-not-at-top
  out = pathlib.Path(output_directory)
  pdoc.render.configure(docformat='google', show_source=False, search=False)
  pdoc.pdoc(*module_specs(), output_directory=out)
  return sorted(out.rglob('*.html'))


def main(argv: list[str]) -> None:
  """``python docs/build_api.py OUTPUT_DIRECTORY``."""
  if len(argv) != 2:
    raise SystemExit(f'usage: python {argv[0]} OUTPUT_DIRECTORY')
  pages = build(argv[1])
  print(f'{len(pages)} pages in {argv[1]}; start at '
        f'{pathlib.Path(argv[1]) / "index.html"}')


if __name__ == '__main__':
  main(sys.argv)
