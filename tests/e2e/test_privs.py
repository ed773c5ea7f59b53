#!/usr/bin/env python3
"""-Z USER and files root writes by name (issue 12, defects 3 and 9).

-Z gives USER only what linecap created: a directory it makes for -w, the manifest and the
files. A directory that was there already (the prefix form's /data of -w /data/x.pcap, an
existing -w DIR, a symbolic link at -w's place) keeps its owner; when USER cannot write it,
linecap refuses at start (exit 2, one line naming the directory and the user, nothing made).
--stats-file is never written through a symbolic link: one there at start is refused (exit
2, nothing made); one planted while capturing is replaced (the file is written under a
temporary name and renamed into place), the file it points at stays as it was. The same for
--stats-file under -Z (USER must be able to write its directory: checked at start), for
linecap-gen --stats-file and -w, and for linecap-merge -w."""
import os
import pwd
import shutil
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import lc_e2e as e  # noqa: E402

BUILD = os.path.dirname(os.environ["LINECAP"])
GEN = os.path.join(BUILD, "linecap-gen")
MERGE = os.path.join(BUILD, "linecap-merge")

t = e.Failures("test_privs")
if os.geteuid() != 0:
    print("test_privs needs root (-Z)", file=sys.stderr)
    sys.exit(e.SKIP)
nobody = pwd.getpwnam("nobody")
work = e.tmpdir()
os.chmod(work, 0o755)		# nobody reaches what is below
sample = e.make_sample(work, 2000)
replay = f"net_pcap0,rx_pcap={sample}"
loop = f"net_pcap0,rx_pcap={sample},infinite_rx=1"


def owner(path):
    st = os.lstat(path)
    return st.st_uid, st.st_gid


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def root_dir(name, mode_bits=0o755, uid=0):
    """A directory holding a root-owned file 'keep' (0644); its path."""
    d = os.path.join(work, name)
    os.mkdir(d)
    os.chmod(d, mode_bits)
    with open(os.path.join(d, "keep"), "w") as f:
        f.write("root's file\n")
    os.chmod(os.path.join(d, "keep"), 0o644)
    os.chown(d, uid, uid and nobody.pw_gid)
    return d


def victim(name):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write("root's victim\n")
    os.chmod(path, 0o600)
    return path


def unchanged(path):
    with open(path) as f:
        return f.read() == "root's victim\n" and owner(path) == (0, 0)


def one_line(r):
    return r.stderr.count("\n") == 1 and r.stderr.startswith("linecap: ")


def refused_dir(what, r, d, before, named=None):
    named = named or d
    t.check(r.returncode == 2, f"{what}: exit {r.returncode} (want 2): {r.stderr[-300:]!r}")
    t.check(one_line(r) and named in r.stderr and "nobody cannot write" in r.stderr,
            f"{what}: one line naming {named} and nobody: {r.stderr!r}")
    t.check(owner(d) == (0, 0) and mode(d) == 0o755, f"{what}: {d} still root:root 0755: "
            f"{owner(d)} {oct(mode(d))}")
    t.check(sorted(os.listdir(d)) == before, f"{what}: nothing made in {d}: "
            f"{os.listdir(d)}")
    t.check(owner(os.path.join(d, "keep")) == (0, 0), f"{what}: root's file still root's")


def ours_only(what, d, dir_owner, dir_mode):
    """After a -Z nobody capture into d: d as it was, root's file root's, ours nobody's."""
    t.check(owner(d) == dir_owner and mode(d) == dir_mode,
            f"{what}: {d} keeps its owner and mode: {owner(d)} {oct(mode(d))}")
    t.check(owner(os.path.join(d, "keep")) == (0, 0), f"{what}: root's file still root's")
    made = [f for f in os.listdir(d) if f != "keep"]
    t.check(any(f.endswith(".pcap") for f in made) and "manifest.jsonl" in made,
            f"{what}: a capture file and the manifest: {made}")
    for f in made:
        p = os.path.join(d, f)
        t.check(owner(p) == (nobody.pw_uid, nobody.pw_gid), f"{what}: {f} is nobody's: "
                f"{owner(p)}")


# --- (a) the prefix form's directory is not linecap's to give -----------------------------
rootdir = root_dir("rootdir")
r = e.run_linecap(["-i", replay, "-w", os.path.join(rootdir, "x.pcap"), "-Z", "nobody"])
refused_dir("-w rootdir/x.pcap -Z nobody", r, rootdir, ["keep"])
t.check("-w" in r.stderr or "write" in r.stderr, f"says what to do: {r.stderr!r}")

# an existing -w DIR that root owns: the same
existing = root_dir("existing")
r = e.run_linecap(["-i", replay, "-w", existing, "-Z", "nobody"])
refused_dir("-w existing -Z nobody", r, existing, ["keep"])

# a world-writable sticky directory of root's, and one of nobody's: it works, only ours change
sticky = root_dir("sticky", 0o1777)
r = e.run_linecap(["-i", replay, "-w", os.path.join(sticky, "x.pcap"), "-Z", "nobody"])
t.check(r.returncode == 0, f"sticky: exit {r.returncode}: {r.stderr[-300:]!r}")
ours_only("sticky", sticky, (0, 0), 0o1777)

nobodys = root_dir("nobodys", 0o755, nobody.pw_uid)
r = e.run_linecap(["-i", replay, "-w", os.path.join(nobodys, "x.pcap"), "-Z", "nobody"])
t.check(r.returncode == 0, f"nobody's dir: exit {r.returncode}: {r.stderr[-300:]!r}")
ours_only("nobody's dir", nobodys, (nobody.pw_uid, nobody.pw_gid), 0o755)

# --- (b) a directory linecap creates is nobody's --------------------------------------------
newdir = os.path.join(work, "newdir")
r = e.run_linecap(["-i", replay, "-w", newdir, "-Z", "nobody"])
t.check(r.returncode == 0, f"new dir: exit {r.returncode}: {r.stderr[-300:]!r}")
t.check(os.path.isdir(newdir) and owner(newdir) == (nobody.pw_uid, nobody.pw_gid)
        and mode(newdir) == 0o750, f"the directory linecap made is nobody's, 0750: "
        f"{owner(newdir) if os.path.exists(newdir) else None}")
files = os.listdir(newdir) if os.path.isdir(newdir) else []
t.check(files and all(owner(os.path.join(newdir, f)) == (nobody.pw_uid, nobody.pw_gid)
                      for f in files), f"its files are nobody's: {files}")

# --- (d) a symbolic link at -w's place is not chowned through -------------------------------
target = root_dir("target")
link = os.path.join(work, "linkdir")
os.symlink(target, link)
r = e.run_linecap(["-i", replay, "-w", link, "-Z", "nobody"])
refused_dir("-w LINK -> root's dir, -Z nobody", r, target, ["keep"], link)
t.check(os.path.islink(link), "the link is still a link")

target2 = root_dir("target2", 0o1777)
link2 = os.path.join(work, "linkdir2")
os.symlink(target2, link2)
r = e.run_linecap(["-i", replay, "-w", os.path.join(link2, "x.pcap"), "-Z", "nobody"])
t.check(r.returncode == 0, f"link to a sticky dir: exit {r.returncode}: {r.stderr[-300:]!r}")
ours_only("-w LINK/x.pcap -> sticky dir", target2, (0, 0), 0o1777)

# --- (c) --stats-file: a link there at start is refused, nothing is made --------------------
vic = victim("victim1")
st = os.path.join(work, "st1.json")
os.symlink(vic, st)
out = os.path.join(work, "c1")
r = e.run_linecap(["-i", replay, "-w", out, "--stats-file", st])
t.check(r.returncode == 2 and one_line(r) and st in r.stderr,
        f"--stats-file LINK: exit {r.returncode} (want 2), one line: {r.stderr!r}")
t.check(unchanged(vic), "the link's target is untouched")
t.check(os.path.islink(st) and not os.path.exists(out), "the link stays, nothing is made")

# a dangling link too (it would be created through)
st = os.path.join(work, "st1b.json")
made_through = os.path.join(work, "made_through")
os.symlink(made_through, st)
r = e.run_linecap(["-i", replay, "-w", out, "--stats-file", st])
t.check(r.returncode == 2 and not os.path.exists(made_through) and not os.path.exists(out),
        f"--stats-file dangling LINK: exit {r.returncode}, nothing made: {r.stderr!r}")

# a link planted while capturing is replaced, not followed
vic = victim("victim2")
st = os.path.join(work, "st2.json")
p = e.start_linecap(["-i", loop, "-w", os.path.join(work, "c2"), "--stats-file", st])
time.sleep(2.0)
os.symlink(vic, st)
rc, err = e.interrupt(p)
t.check(rc == 0, f"capture with a link planted at --stats-file: exit {rc}: {err[-300:]!r}")
t.check(unchanged(vic), "the planted link's target is untouched")
t.check(os.path.isfile(st) and not os.path.islink(st) and e.stats(st).get("received", 0) > 0,
        "the stats file replaced the link")
t.check(not [f for f in os.listdir(work) if f.startswith(".st2.json")],
        f"no temporary file left: {os.listdir(work)}")

# -Z: the stats file's directory must be writable by the user (it is written at the end)
statsdir = root_dir("statsdir")
r = e.run_linecap(["-i", replay, "-w", os.path.join(work, "c3"), "-Z", "nobody",
                   "--stats-file", os.path.join(statsdir, "s.json")])
t.check(r.returncode == 2 and one_line(r) and statsdir in r.stderr and "nobody" in r.stderr,
        f"-Z with a stats directory nobody cannot write: {r.returncode} {r.stderr!r}")
t.check(not os.path.exists(os.path.join(work, "c3")) and os.listdir(statsdir) == ["keep"],
        "nothing made")
r = e.run_linecap(["-i", replay, "-w", os.path.join(work, "c4"), "-Z", "nobody",
                   "--stats-file", os.path.join(sticky, "s.json")])
t.check(r.returncode == 0 and e.stats(os.path.join(sticky, "s.json")).get("received", 0) > 0,
        f"-Z with a stats file in a sticky directory: {r.returncode} {r.stderr[-300:]!r}")

# --- linecap-gen and linecap-merge: never through a link ------------------------------------
vic = victim("victim3")
st = os.path.join(work, "gen.json")
os.symlink(vic, st)
r = subprocess.run([GEN, "-w", os.path.join(work, "gen.pcap"), "-c", "10", "--stats-file", st],
                   capture_output=True, text=True, timeout=60)
t.check(r.returncode == 2 and unchanged(vic) and os.path.islink(st)
        and not os.path.exists(os.path.join(work, "gen.pcap")),
        f"linecap-gen --stats-file LINK: exit {r.returncode} (want 2), target untouched: "
        f"{r.stderr!r}")
vic = victim("victim4")
gen_out = os.path.join(work, "gen2.pcap")
os.symlink(vic, gen_out)
r = subprocess.run([GEN, "-w", gen_out, "-c", "10"], capture_output=True, text=True, timeout=60)
t.check(r.returncode == 2 and unchanged(vic) and os.path.islink(gen_out),
        f"linecap-gen -w LINK: exit {r.returncode} (want 2): {r.stderr!r}")

merge_out = os.path.join(work, "merged.pcap")
made_through = os.path.join(work, "merge_through.pcap")
os.symlink(made_through, merge_out)
r = subprocess.run([MERGE, "-w", merge_out, sample], capture_output=True, text=True, timeout=60)
t.check(r.returncode == 2 and os.path.islink(merge_out) and not os.path.exists(made_through)
        and not os.path.exists(merge_out + ".part"),
        f"linecap-merge -w dangling LINK: exit {r.returncode} (want 2), nothing made: "
        f"{r.stderr!r}")
# --- (e) an existing manifest is never given away; one USER cannot append to is refused ------
def snapshot(d):
    return {f: (owner(os.path.join(d, f)), os.path.getsize(os.path.join(d, f)))
            for f in os.listdir(d)}


for name, dmode, duid in (("st3", 0o1777, 0), ("nobodys3", 0o755, nobody.pw_uid)):
    d = root_dir(name, dmode, duid)
    r = e.run_linecap(["-i", replay, "-w", os.path.join(d, "x.pcap")])
    man = os.path.join(d, "manifest.jsonl")
    t.check(r.returncode == 0 and owner(man) == (0, 0), f"{name}: root's capture: "
            f"{r.returncode} {r.stderr[-200:]!r}")
    before = snapshot(d)
    r = e.run_linecap(["-i", replay, "-w", os.path.join(d, "x.pcap"), "-Z", "nobody"])
    t.check(r.returncode == 2 and one_line(r) and man in r.stderr and "nobody" in r.stderr,
            f"{name}: -Z nobody with root's manifest: exit {r.returncode} (want 2), one line "
            f"naming it: {r.stderr!r}")
    t.check(owner(man) == (0, 0) and mode(man) == 0o640,
            f"{name}: root's manifest keeps its owner: {owner(man)} {oct(mode(man))}")
    t.check(snapshot(d) == before, f"{name}: nothing made or changed: {snapshot(d)}")

# a manifest nobody's earlier -Z capture made: the next -Z capture goes on with it
d = root_dir("st4", 0o1777)
for i in range(2):
    r = e.run_linecap(["-i", replay, "-w", os.path.join(d, "x.pcap"), "-Z", "nobody"])
    t.check(r.returncode == 0, f"st4 -Z run {i}: exit {r.returncode}: {r.stderr[-300:]!r}")
t.check(owner(os.path.join(d, "manifest.jsonl")) == (nobody.pw_uid, nobody.pw_gid),
        "st4: the manifest nobody's capture made is nobody's")
t.check(subprocess.run([os.path.join(BUILD, "linecap-verify"), d], capture_output=True)
        .returncode == 0, "st4: verifies")

# --- (f) -Z with retention: earlier files USER could not delete are refused at start ------
os.mkdir(os.path.join(work, "big"))
big = e.make_sample(os.path.join(work, "big"), 4000)
d = root_dir("st5", 0o1777)
r = e.run_linecap(["-i", replay, "-w", os.path.join(d, "x.pcap"), "-Z", "nobody"])
t.check(r.returncode == 0, f"st5 first -Z run: {r.returncode} {r.stderr[-300:]!r}")
r = e.run_linecap(["-i", f"net_pcap0,rx_pcap={big}", "-w", os.path.join(d, "x.pcap"),
                   "-C", "0.4"])
roots = [f for f in os.listdir(d) if f.endswith(".pcap") and owner(os.path.join(d, f))[0] == 0]
t.check(r.returncode == 0 and len(roots) >= 3, f"st5 root's rotating capture: {r.returncode} "
        f"{roots} {r.stderr[-200:]!r}")
before = snapshot(d)
for opt in (["-C", "0.4", "-W", "2"], ["--retain-bytes", "2M"]):
    r = e.run_linecap(["-i", replay, "-w", os.path.join(d, "x.pcap"), "-Z", "nobody", *opt])
    t.check(r.returncode == 2 and one_line(r) and "nobody cannot delete" in r.stderr
            and any(f in r.stderr for f in roots),
            f"-Z nobody {opt} over root's files in a sticky dir: exit {r.returncode} (want 2), "
            f"one line naming a file: {r.stderr!r}")
    t.check(snapshot(d) == before, f"{opt}: nothing deleted, made or changed")
v = subprocess.run([os.path.join(BUILD, "linecap-verify"), d], capture_output=True, text=True)
t.check(v.returncode == 0 and "pending" not in v.stdout + v.stderr,
        f"st5 verifies, no retirement pending: {v.stdout[-300:]!r}")
# without retention the same capture is fine (nothing is deleted)
r = e.run_linecap(["-i", replay, "-w", os.path.join(d, "x.pcap"), "-Z", "nobody"])
t.check(r.returncode == 0, f"st5 -Z without retention: {r.returncode} {r.stderr[-300:]!r}")

# --- (g) a link USER planted on the way to the -w directory root creates ------------------
# (nobody's own directory, not a sticky one, so fs.protected_symlinks lets root follow it)
hid = root_dir("hidden", 0o700)
st6 = root_dir("st6", 0o755, nobody.pw_uid)
ldir = os.path.join(st6, "ldir")
os.symlink(hid, ldir)
os.lchown(ldir, nobody.pw_uid, nobody.pw_gid)
os.chmod(hid, 0o711)			# nobody may reach through it, not write it
r = e.run_linecap(["-i", replay, "-w", os.path.join(ldir, "case2"), "-Z", "nobody"])
t.check(r.returncode == 2 and one_line(r) and ldir in r.stderr,
        f"-w through nobody's link: exit {r.returncode} (want 2), one line naming it: "
        f"{r.stderr!r}")
t.check(sorted(os.listdir(hid)) == ["keep"], f"nothing made in root's dir: {os.listdir(hid)}")

if not t.failed:
    shutil.rmtree(work, ignore_errors=True)
t.done()
