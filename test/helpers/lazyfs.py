#!/usr/bin/python3
"""lazyfs.py BACKING MOUNT FIFO: a pass-through FUSE file system (Debian's python3-fusepy) that forgets, when "cut"
is written to FIFO, what a power cut may forget on ext4:

- file data not yet synced: each file changed since its last fsync/fdatasync is put back as it was then (a file
  created and never synced becomes empty), as LazyFS does for Jepsen;
- names not yet synced in their directory: each directory changed (create, rename, link, unlink, mkdir, rmdir,
  symlink) since its last fsync gets back the entries it had then. A file created since is gone, a file renamed
  over another brings the other back, a file unlinked since comes back with its synced data.

After the cut every operation fails with EIO, the mount is let go, and the process exits: what BACKING holds is
what the disk held after the power cut. Files whose names were removed but that a directory may still need are
kept in BACKING/.lazyfs-kept (never listed through the mount, removed by the cut).

Derived from ../shared/lazyfs/lazyfs.py (names passed straight through there); jobdeck's tests own this copy."""
import errno, os, shutil, sys, threading, subprocess
from fusepy import FUSE, Operations, FuseOSError

KEPT = '.lazyfs-kept'


class Lazy(Operations):
    def __init__(self, root):
        self.root = os.path.normpath(os.path.realpath(root))
        self.kept = os.path.join(self.root, KEPT)
        os.makedirs(self.kept, exist_ok=True)
        self.mutex = threading.RLock()
        self.synced = {}          # inode -> bytes as of its last sync, for files changed since
        self.listings = {}        # directory (backing path) -> {name: inode} as of its last sync, for dirs changed since
        self.dead = False

    def _p(self, path):
        return os.path.join(self.root, path.lstrip('/'))

    def _alive(self):
        if self.dead:
            raise FuseOSError(errno.EIO)

    def _keep(self, fd, new=False):
        ino = os.fstat(fd).st_ino
        with self.mutex:
            if ino not in self.synced:
                if new:
                    self.synced[ino] = b''
                else:
                    # Read through a descriptor of our own: the caller's may be write-only.
                    reader = os.open(f'/proc/self/fd/{fd}', os.O_RDONLY)
                    try:
                        size = os.fstat(reader).st_size
                        self.synced[ino] = os.pread(reader, size, 0) if size else b''
                    finally:
                        os.close(reader)

    def _listing(self, directory):
        """The directory's entries by name; its synced listing is taken before its first change since a sync."""
        entries = {}
        for name in os.listdir(directory):
            if directory == self.root and name == KEPT:
                continue
            try:
                entries[name] = os.lstat(os.path.join(directory, name)).st_ino
            except FileNotFoundError:
                pass
        return entries

    def _names_change(self, *paths):
        """Called before a change of names: remembers each parent's listing, and keeps every file a name is
        about to be taken from, so that the cut can give the name back."""
        with self.mutex:
            for path in paths:
                directory = os.path.dirname(path)
                if directory not in self.listings:
                    self.listings[directory] = self._listing(directory)
                try:
                    st = os.lstat(path)
                except FileNotFoundError:
                    continue
                if not os.path.isdir(path) or os.path.islink(path):
                    kept = os.path.join(self.kept, str(st.st_ino))
                    if not os.path.lexists(kept):
                        os.link(path, kept, follow_symlinks=False)

    def cut(self):
        with self.mutex:
            self.dead = True
            lost = dict(self.synced)
            listings = dict(self.listings)
            self.synced.clear()
            self.listings.clear()
        # Where every inode is now, the kept ones included, before any name moves.
        where = {}
        for d, dirs, files in os.walk(self.root):
            for f in files + dirs:
                p = os.path.join(d, f)
                try:
                    where.setdefault(os.lstat(p).st_ino, p)
                except FileNotFoundError:
                    pass
        # Data first, on every name of the inode.
        for ino, data in lost.items():
            p = where.get(ino)
            if p and os.path.isfile(p) and not os.path.islink(p):
                with open(p, 'r+b') as fh:
                    fh.write(data); fh.truncate(len(data))
        # Then names: each changed directory gets back the entries it had at its last sync.
        restored = 0
        for directory, entries in sorted(listings.items(), key=lambda item: -len(item[0])):
            if not os.path.isdir(directory):
                continue   # its parent forgets it too, or it was removed and its parent's listing says so
            current = self._listing(directory)
            for name, ino in current.items():
                if entries.get(name) != ino:
                    p = os.path.join(directory, name)
                    if os.path.isdir(p) and not os.path.islink(p):
                        shutil.rmtree(p)
                    else:
                        os.unlink(p)
                    restored += 1
            for name, ino in entries.items():
                if current.get(name) == ino:
                    continue
                source = where.get(ino)
                p = os.path.join(directory, name)
                if source is None:
                    continue
                if os.path.isdir(source) and not os.path.islink(source):
                    os.mkdir(p)   # a directory removed since: it comes back (empty; its own listing refills it)
                else:
                    os.link(source, p, follow_symlinks=False)
                restored += 1
        shutil.rmtree(self.kept, ignore_errors=True)
        return len(lost), restored

    # pass-through
    def access(self, path, mode):
        self._alive()
        if not os.access(self._p(path), mode): raise FuseOSError(errno.EACCES)
    def getattr(self, path, fh=None):
        self._alive()
        try:
            st = os.lstat(self._p(path))
        except OSError as e:
            raise FuseOSError(e.errno)
        return {k: getattr(st, k) for k in ('st_atime', 'st_ctime', 'st_gid', 'st_mode', 'st_mtime', 'st_nlink', 'st_size', 'st_uid', 'st_ino')}
    def readdir(self, path, fh):
        self._alive()
        names = os.listdir(self._p(path))
        if path == '/':
            names = [name for name in names if name != KEPT]
        return ['.', '..'] + names
    def readlink(self, path):
        self._alive(); return os.readlink(self._p(path))
    def statfs(self, path):
        st = os.statvfs(self._p(path))
        return {k: getattr(st, k) for k in ('f_bavail', 'f_bfree', 'f_blocks', 'f_bsize', 'f_favail', 'f_ffree', 'f_files', 'f_flag', 'f_frsize', 'f_namemax')}
    def _os(self, fn, *a):
        self._alive()
        try:
            return fn(*a)
        except OSError as e:
            raise FuseOSError(e.errno)
    def _named(self, fn, paths, *a):
        self._alive()
        with self.mutex:
            self._names_change(*paths)
            return self._os(fn, *a)
    def chmod(self, path, mode): return self._os(os.chmod, self._p(path), mode)
    def chown(self, path, uid, gid): return self._os(os.chown, self._p(path), uid, gid)
    def mkdir(self, path, mode): return self._named(os.mkdir, [self._p(path)], self._p(path), mode)
    def rmdir(self, path): return self._named(os.rmdir, [self._p(path)], self._p(path))
    def unlink(self, path): return self._named(os.unlink, [self._p(path)], self._p(path))
    def rename(self, old, new): return self._named(os.rename, [self._p(old), self._p(new)], self._p(old), self._p(new))
    def symlink(self, name, target): return self._named(os.symlink, [self._p(name)], target, self._p(name))
    def link(self, target, name): return self._named(os.link, [self._p(target)], self._p(name), self._p(target))
    def utimens(self, path, times=None): return self._os(os.utime, self._p(path), times)
    def mknod(self, path, mode, dev): return self._named(os.mknod, [self._p(path)], self._p(path), mode, dev)
    def open(self, path, flags):
        fd = self._os(os.open, self._p(path), flags & ~os.O_TRUNC)
        if flags & os.O_TRUNC:
            self._keep(fd); os.ftruncate(fd, 0)
        return fd
    def create(self, path, mode, fi=None):
        self._alive()
        with self.mutex:
            existed = os.path.lexists(self._p(path))
            if not existed:
                self._names_change(self._p(path))
            fd = self._os(os.open, self._p(path), os.O_RDWR | os.O_CREAT, mode)
            # An existing file keeps what it held at its last sync: taken before it is emptied.
            self._keep(fd, new=not existed)
            os.ftruncate(fd, 0)
        return fd
    def read(self, path, size, offset, fh):
        self._alive(); return os.pread(fh, size, offset)
    def write(self, path, data, offset, fh):
        self._alive(); self._keep(fh); return os.pwrite(fh, data, offset)
    def truncate(self, path, length, fh=None):
        self._alive()
        fd = fh if fh is not None else os.open(self._p(path), os.O_RDWR)
        try:
            self._keep(fd); os.ftruncate(fd, length)
        finally:
            if fh is None: os.close(fd)
    def flush(self, path, fh):
        self._alive()
    def release(self, path, fh):
        os.close(fh)
    def fsync(self, path, datasync, fh):
        self._alive()
        ino = os.fstat(fh).st_ino
        (os.fdatasync if datasync else os.fsync)(fh)
        with self.mutex:
            self.synced.pop(ino, None)
    def fsyncdir(self, path, datasync, fh):
        self._alive()
        with self.mutex:
            self.listings.pop(os.path.normpath(self._p(path)), None)


def main():
    backing, mount, fifo = sys.argv[1:4]
    fs = Lazy(backing)
    def control():
        while True:
            with open(fifo) as f:
                cmd = f.read().strip()
            if cmd == 'cut':
                files, names = fs.cut()
                print(f'lazyfs: power cut, {files} files put back to their last sync, {names} names to their directory\'s', file=sys.stderr, flush=True)
                subprocess.run(['fusermount', '-u', '-z', mount])
                os._exit(0)
    threading.Thread(target=control, daemon=True).start()
    print('lazyfs: mounted', file=sys.stderr, flush=True)
    FUSE(fs, mount, foreground=True, nothreads=False, allow_other=False, use_ino=True)

if __name__ == '__main__':
    main()
