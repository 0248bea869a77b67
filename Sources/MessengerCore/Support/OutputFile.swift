import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Files the tool writes beside the database (rate windows, answer journals, the spool, exports)
/// never through a symbolic link (#26): a link planted in the folder could make a run truncate or
/// append to any file its user can write. And an export never takes the place of an earlier one.
public enum OutputFile {
    /// `open(2)` with `O_NOFOLLOW`: a symbolic link at `path` is refused with one line.
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o600) throws -> Int32 {
        let fd = Glibc.open(path, flags | O_NOFOLLOW | O_CLOEXEC, mode)
        if fd < 0 {
            if errno == ELOOP { throw DomainError("\(Display.safe(path)) is a symbolic link: refusing to write through it") }
            throw DomainError("can't open \(Display.safe(path)): \(String(cString: strerror(errno)))")
        }
        return fd
    }

    /// Writes `contents` to a new file named `name` in `folder`, or, when that name is taken,
    /// `name-2`, `name-3`… (before the extension); never over an existing file or through a
    /// link. Returns the path written.
    public static func createNew(in folder: String, name: String, contents: Data) throws -> String {
        let ext = (name as NSString).pathExtension
        let stem = ext.isEmpty ? name : String(name.dropLast(ext.count + 1))
        for n in 1...1000 {
            let candidate = n == 1 ? name : "\(stem)-\(n)" + (ext.isEmpty ? "" : "." + ext)
            let path = (folder.isEmpty ? "." : folder) + "/" + candidate
            let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd < 0 {
                if errno == EEXIST || errno == ELOOP { continue }
                throw DomainError("can't write \(Display.safe(path)): \(String(cString: strerror(errno)))")
            }
            defer { close(fd) }
            let wrote = contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard wrote == contents.count else {
                throw DomainError("can't write \(Display.safe(path)): \(String(cString: strerror(errno)))")
            }
            return path
        }
        throw DomainError("1,000 files named like \(Display.safe(name)) already: move some away")
    }
}
