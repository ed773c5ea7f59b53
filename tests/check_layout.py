#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The library graph of lib/ and the public/internal header split (issue 13's layout).

    tests/check_layout.py [SOURCE_ROOT]

Fails (exit 1, one line per finding) when:
  - DEPS below has a circle, or a lib/X/meson.build declares other dependencies than DEPS[X];
  - a file under lib/X (or a public header owned by X) includes a header of a library that X
    does not declare as a dependency (or a header by a relative path into another directory);
  - an application (app/) includes anything but the public headers (include/linecap/), its
    own directory's headers and lc_version.h;
  - a header under include/linecap/ has no owner in PUBLIC, or two lib/ directories hold
    headers of the same name (every library's directory is on its users' include path).
The table is the architecture: change it only with lib/X/meson.build's deps.
"""
import os
import re
import sys

# Each library and the libraries it uses directly (lib/X/meson.build: deps = [...]).
DEPS = {
    'core': [],
    'filter': ['core'],
    'output': ['core', 'filter'],
    'pipeline': ['core', 'filter', 'output'],
    'control': ['core', 'pipeline'],
    'gen': ['core', 'output'],
}

# include/linecap/: what the applications call, and the library that implements each.
PUBLIC = {
    'capture.h': 'pipeline',
    'config.h': 'core',
    'control.h': 'control',
    'diskcheck.h': 'output',
    'eal_args.h': 'core',
    'feed.h': 'pipeline',
    'filter.h': 'filter',
    'format.h': 'output',
    'gen.h': 'gen',
    'gen_sender.h': 'gen',
    'iflist.h': 'core',
    'index.h': 'output',
    'flows.h': 'output',
    'manifest.h': 'output',
    'merge.h': 'output',
    'outpath.h': 'output',
    'privs.h': 'core',
    'prometheus.h': 'control',
    'query.h': 'output',
    'reader.h': 'output',
    'stats.h': 'pipeline',
    'verify.h': 'output',
}

GENERATED = {'lc_version.h'}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]', re.M)


def includes(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        text = f.read()
    # Only our own headers: quoted ones, or <linecap/...>.
    out = []
    for m in INCLUDE.finditer(text):
        line = text[m.start():m.end()]
        name = m.group(1)
        if '"' in line or name.startswith('linecap/'):
            out.append(name)
    return out


def sources(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(('.c', '.h')))


def cycle(deps):
    """A circle in deps as a list of names, or None."""
    state = {}

    def visit(n, path):
        if state.get(n) == 1:
            return path[path.index(n):] + [n]
        if state.get(n) == 2:
            return None
        state[n] = 1
        for m in deps.get(n, []):
            c = visit(m, path + [n])
            if c:
                return c
        state[n] = 2
        return None

    for n in deps:
        c = visit(n, [])
        if c:
            return c
    return None


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(__file__), '..'))
    rel = lambda p: os.path.relpath(p, root)
    bad = []

    c = cycle(DEPS)
    if c:
        bad.append('DEPS has a circle: ' + ' -> '.join(c))

    libdir = os.path.join(root, 'lib')
    libs = sorted(d for d in os.listdir(libdir) if os.path.isdir(os.path.join(libdir, d)))
    for d in libs:
        if d not in DEPS:
            bad.append('lib/%s: not in DEPS (a new library: give it a row)' % d)
    for lib, want in DEPS.items():
        mb = os.path.join(libdir, lib, 'meson.build')
        if not os.path.exists(mb):
            bad.append('lib/%s/meson.build: missing' % lib)
            continue
        m = re.search(r'^deps\s*=\s*\[([^\]]*)\]', open(mb).read(), re.M)
        got = re.findall(r"'([^']+)'", m.group(1)) if m else None
        if got is None or sorted(got) != sorted(want):
            bad.append('lib/%s/meson.build: deps = %s, the table says %s' % (lib, got, want))

    # Internal headers: name -> library; a name must be unique across lib/.
    internal = {}
    for lib in libs:
        for f in os.listdir(os.path.join(libdir, lib)):
            if f.endswith('.h'):
                if f in internal:
                    bad.append('lib/%s/%s and lib/%s/%s: same name on one include path'
                               % (lib, f, internal[f], f))
                internal[f] = lib
    pubdir = os.path.join(root, 'include', 'linecap')
    for f in sorted(os.listdir(pubdir)):
        if f.endswith('.h') and f not in PUBLIC:
            bad.append('include/linecap/%s: not in PUBLIC (public headers are what the '
                       'applications call; internal ones live in their lib/ directory)' % f)
    for f in PUBLIC:
        if not os.path.exists(os.path.join(pubdir, f)):
            bad.append('include/linecap/%s: in PUBLIC but missing' % f)

    def owner(name, here):
        """The library a quoted include resolves to from directory here, or a reason."""
        if name in GENERATED:
            return None, None
        if '..' in name.split('/'):
            return None, 'by a relative path'
        if os.path.exists(os.path.join(here, name)):
            if os.path.samefile(here, pubdir):
                return PUBLIC.get(name, 'linecap'), None
            return internal.get(name, os.path.basename(here)), None
        if name.startswith('linecap/'):
            base = name[len('linecap/'):]
            if base in PUBLIC:
                return PUBLIC[base], None
            return None, 'not a public header'
        if name in internal:
            return internal[name], None
        return None, 'not found in lib/ or include/linecap/'

    checked = 0

    def check(path, lib):
        nonlocal checked
        checked += 1
        allowed = set(DEPS[lib]) | {lib}
        for name in includes(path):
            who, why = owner(name, os.path.dirname(path))
            if why:
                bad.append('%s: includes "%s": %s' % (rel(path), name, why))
            elif who is not None and who not in allowed:
                bad.append('%s: includes "%s" of lib/%s; %s uses only %s'
                           % (rel(path), name, who, lib, ', '.join(sorted(allowed))))

    for lib in libs:
        if lib in DEPS:
            for p in sources(os.path.join(libdir, lib)):
                check(p, lib)
    for f, lib in sorted(PUBLIC.items()):
        p = os.path.join(pubdir, f)
        if os.path.exists(p) and lib in DEPS:
            check(p, lib)

    appdir = os.path.join(root, 'app')
    for tool in sorted(os.listdir(appdir)):
        d = os.path.join(appdir, tool)
        if not os.path.isdir(d):
            continue
        for p in sources(d):
            checked += 1
            for name in includes(p):
                if name in GENERATED or os.path.exists(os.path.join(d, name)):
                    continue
                if name.startswith('linecap/') and name[len('linecap/'):] in PUBLIC:
                    continue
                bad.append('%s: includes "%s": an application uses only include/linecap/'
                           % (rel(p), name))

    for b in bad:
        print('layout: ' + b)
    if bad:
        print('layout: %d finding(s) in %d files' % (len(bad), checked))
        return 1
    print('layout: %d libraries (%s), %d files: every include follows the graph'
          % (len(DEPS), ', '.join('%s(%s)' % (k, ' '.join(v)) for k, v in DEPS.items()),
             checked))
    return 0


if __name__ == '__main__':
    sys.exit(main())
