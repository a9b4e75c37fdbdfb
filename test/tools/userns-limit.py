# Runs the command in argv[1:] as the user nobody, inside a new user namespace in which
# user.max_user_namespaces is 0: the kernel then refuses every user namespace that command tries
# to create, as on a machine with the sysctl off. Run as root (it writes the namespace's id maps).
import ctypes
import os
import sys

CLONE_NEWUSER = 0x10000000
NOBODY = 65534

libc = ctypes.CDLL(None, use_errno=True)
unshared_r, unshared_w = os.pipe()
mapped_r, mapped_w = os.pipe()
child = os.fork()
if child == 0:
    os.close(unshared_r)
    os.close(mapped_w)
    if libc.unshare(CLONE_NEWUSER) != 0:
        sys.exit(f"userns-limit: unshare: {os.strerror(ctypes.get_errno())}")
    os.write(unshared_w, b"u")
    os.read(mapped_r, 1)  # the parent has written the id maps: root here is root outside
    with open("/proc/sys/user/max_user_namespaces", "w") as limit:
        limit.write("0\n")
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)
    os.execvp(sys.argv[1], sys.argv[1:])

os.close(unshared_w)
os.close(mapped_r)
os.read(unshared_r, 1)
for name in ("uid_map", "gid_map"):
    with open(f"/proc/{child}/{name}", "w") as idmap:
        idmap.write(f"0 0 {NOBODY + 2}\n")
os.write(mapped_w, b"m")
_, status = os.waitpid(child, 0)
sys.exit(os.waitstatus_to_exitcode(status))
