import Foundation

/// Lines out of pieces of bytes, LF-terminated (a CR before it is the caller's to trim), each with
/// its number from 1, in bounded memory: a line is held only until it ends, and one longer than
/// `maxBytes` is refused with its number as soon as it is that long, not once it is all read.
public enum LineSplitter {
    public static func forEachLine(
        chunks next: () throws -> Data?, maxBytes: Int, _ body: (_ number: Int, _ line: Data) throws -> Void
    ) throws {
        var pending = Data()
        var number = 0
        func tooLong() -> DomainError {
            let mebibytes = maxBytes % (1 << 20) == 0 ? " (\(maxBytes >> 20) MiB)" : ""
            return DomainError("line \(number + 1): longer than \(maxBytes) bytes\(mebibytes), the most a line may be")
        }
        while let chunk = try next(), !chunk.isEmpty {
            var start = chunk.startIndex
            while let end = chunk[start...].firstIndex(of: 0x0A) {
                let piece = chunk[start..<end]
                guard pending.count + piece.count <= maxBytes else { throw tooLong() }
                number += 1
                if pending.isEmpty {
                    try body(number, piece)
                } else {
                    pending.append(piece)
                    try body(number, pending)
                    pending.removeAll(keepingCapacity: true)
                }
                start = chunk.index(after: end)
            }
            guard pending.count + (chunk.endIndex - start) <= maxBytes else { throw tooLong() }
            pending.append(chunk[start...])
        }
        if !pending.isEmpty { try body(number + 1, pending) }
    }
}

extension Data {
    /// The data as one piece, then the end: the `chunks` of a reader fed from memory.
    public var asOneChunk: () -> Data? {
        var once: Data? = self
        return {
            defer { once = nil }
            return once
        }
    }
}
