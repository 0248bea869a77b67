import Foundation

/// Reads a file named by a person (a CSV, JSON lines, a token, the config), refusing with one line
/// what can't be read as a file: a missing path, a folder, a FIFO or a device (reading either
/// could block forever or never end), or more than `limit` bytes, all checked before a byte is read.
public enum InputFile {
    public static func read(_ path: String, limit: Int = 512 << 20) throws -> Data {
        try check(path, limit: limit)
        guard let handle = FileHandle(forReadingAtPath: path) else { throw DomainError("can't read \(Display.safe(path))") }
        defer { try? handle.close() }
        // Read one byte past the limit: a file that grew since the check is refused, not cut.
        let data = (try? handle.read(upToCount: limit + 1)) ?? nil
        guard let data else { return Data() }
        guard data.count <= limit else { throw DomainError("\(Display.safe(path)) is over \(limit) bytes; the limit is \(limit)") }
        return data
    }

    /// The file, checked as `check` does, read a piece at a time (a MiB each, nil at the end) by
    /// `body`, which is also given its size: memory stays bounded whatever the file's size. A file
    /// that grows past `limit` while it is read is refused, not cut.
    public static func withChunks<T>(
        _ path: String, limit: Int = 512 << 20, _ body: (_ size: Int, _ next: () throws -> Data?) throws -> T
    ) throws -> T {
        let size = try check(path, limit: limit)
        guard let handle = FileHandle(forReadingAtPath: path) else { throw DomainError("can't read \(Display.safe(path))") }
        defer { try? handle.close() }
        var read = 0
        return try body(size) {
            let chunk = try handle.read(upToCount: 1 << 20)
            read += chunk?.count ?? 0
            guard read <= limit else { throw DomainError("\(Display.safe(path)) is over \(limit) bytes; the limit is \(limit)") }
            return chunk
        }
    }

    /// A line to warn with when a file holding a secret (the app secret, a token, the verify
    /// token) can be read by its group or others, as ssh does for keys (#26); nil when only its
    /// owner can.
    public static func sharedSecretWarning(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & 0o077 != 0 else { return nil }
        return
            "warning: \(Display.safe(path)) holds a secret and is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))): chmod 600 \(Display.shellQuoted(path))"
    }

    /// The checks of `read`, without reading: the file's size.
    @discardableResult
    public static func check(_ path: String, limit: Int = 512 << 20) throws -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw DomainError("no such file: \(Display.safe(path))") }
            throw DomainError("can't read \(Display.safe(path)): \(String(cString: strerror(errno)))")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw DomainError("\(Display.safe(path)) is a folder, not a file")
        case S_IFIFO: throw DomainError("\(Display.safe(path)) is a pipe (FIFO), not a file: save it to a file first")
        case S_IFCHR, S_IFBLK: throw DomainError("\(Display.safe(path)) is a device, not a file")
        default: throw DomainError("\(Display.safe(path)) is not a regular file")
        }
        guard info.st_size <= limit else {
            throw DomainError("\(Display.safe(path)) is \(info.st_size) bytes; the limit is \(limit)")
        }
        return Int(info.st_size)
    }
}
