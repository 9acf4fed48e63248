#!/usr/bin/python3
"""Check contrib/Containerfile where no container builder runs.

  lint_containerfile.py CONTAINERFILE [BINARY]

What a build would catch first, and what the guide promises:
  - at least two stages, the last on a Debian slim image;
  - the last stage runs as a named non-root user and has a HEALTHCHECK;
  - every COPY source (outside --from) exists in the build context;
  - every package an apt-get install names exists in this Debian's archive;
  - with BINARY: every library it links directly comes from a package that the
    last stage installs (or from libc6, which the base image has).
Prints one line per problem; exits 1 if there is any.
"""
import os
import re
import shlex
import subprocess
import sys


def instructions(text):
    """(keyword, argument) pairs, with continuation lines joined and comments dropped."""
    out, cur = [], ""
    for line in text.splitlines():
        if not cur and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + " "
            continue
        cur += line
        kw, _, arg = cur.strip().partition(" ")
        out.append((kw.upper(), arg.strip()))
        cur = ""
    return out


def apt_packages(run_arg):
    pkgs = []
    for cmd in re.split(r"&&|;", run_arg):
        words = shlex.split(cmd)
        if len(words) >= 2 and words[0] == "apt-get" and "install" in words:
            pkgs += [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
    return pkgs


def package_exists(name):
    r = subprocess.run(["apt-cache", "show", "--no-all-versions", name],
                       capture_output=True, text=True)
    return r.returncode == 0 and "Package: " in r.stdout


def direct_library_packages(binary):
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]",
                        subprocess.run(["readelf", "-d", binary], capture_output=True,
                                       text=True).stdout)
    paths = dict(re.findall(r"^\s*(\S+) => (\S+)", subprocess.run(
        ["ldd", binary], capture_output=True, text=True).stdout, re.M))
    owners = {}
    for lib in needed:
        if re.match(r"lib(asan|ubsan|tsan|lsan)\.", lib):
            continue  # a sanitizer build's runtime, not the image's
        path = os.path.realpath(paths.get(lib, lib))
        r = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
        if r.returncode != 0:  # merged /usr: dpkg may know the /lib spelling
            r = subprocess.run(["dpkg", "-S", path.replace("/usr/lib/", "/lib/", 1)],
                               capture_output=True, text=True)
        owners[lib] = r.stdout.split(":")[0] if r.returncode == 0 else None
    return owners


def main():
    if len(sys.argv) not in (2, 3):
        sys.stderr.write(__doc__)
        return 2
    path = sys.argv[1]
    context = os.path.dirname(os.path.dirname(os.path.abspath(path)))
    ins = instructions(open(path).read())
    problems = []
    stages = [i for i, (kw, _) in enumerate(ins) if kw == "FROM"]
    if len(stages) < 2:
        problems.append("not multi-stage: %d FROM" % len(stages))
    last = ins[stages[-1]:] if stages else ins
    if stages and not re.match(r"debian:[\w.-]+-slim\b", last[0][1]):
        problems.append("last stage is not on a Debian slim image: %s" % last[0][1])
    users = [arg for kw, arg in last if kw == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append("last stage runs as root")
    if not any(kw == "HEALTHCHECK" for kw, _ in last):
        problems.append("last stage has no HEALTHCHECK")
    for kw, arg in ins:
        if kw in ("COPY", "ADD") and "--from=" not in arg:
            words = [w for w in shlex.split(arg) if not w.startswith("--")]
            for src in words[:-1]:
                if not os.path.exists(os.path.join(context, src)):
                    problems.append("%s source missing from the context: %s" % (kw, src))
    runtime = set()
    for i, (kw, arg) in enumerate(ins):
        if kw != "RUN":
            continue
        for p in apt_packages(arg):
            if not package_exists(p):
                problems.append("no such Debian package: %s" % p)
            if stages and i >= stages[-1]:
                runtime.add(p)
    if len(sys.argv) == 3:
        for lib, pkg in direct_library_packages(sys.argv[2]).items():
            if pkg is None:
                problems.append("cannot tell which package provides %s" % lib)
            elif pkg not in runtime and pkg != "libc6":
                problems.append("%s (from %s) is not installed in the last stage" % (lib, pkg))
    for p in problems:
        print(p)
    if not problems:
        print("ok: %d instructions, %d stages, runtime packages: %s"
              % (len(ins), len(stages), " ".join(sorted(runtime))))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
