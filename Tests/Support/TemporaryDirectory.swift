import Foundation

/// A fresh directory under the system temporary directory, removed with everything in it on
/// `remove()` or when the object goes away.
public final class TemporaryDirectory: @unchecked Sendable {
    /// The absolute path of the directory.
    public let path: String
    private let lock = NSLock()
    private var removed = false

    /// Creates a new empty directory whose name starts with `prefix`, in `base` (default: `$TMPDIR` or /tmp).
    public init(prefix: String = "chartsync-test", base: String? = nil) throws {
        let base = base ?? ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(base)/\(prefix).XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw SupportError("mkdtemp in \(base) failed")
        }
        path = String(cString: made)
    }

    deinit { remove() }

    /// The path of `name` inside the directory.
    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes `bytes` to `name` inside the directory (creating subdirectories) and returns its path.
    @discardableResult
    public func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let target = file(name)
        try FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }

    /// Removes the directory and its contents; idempotent.
    public func remove() {
        lock.withLock {
            guard !removed else { return }
            removed = true
            try? FileManager.default.removeItem(atPath: path)
        }
    }
}

/// Deterministic pseudo-random bytes (xorshift), for test bodies that are not all alike.
public func testBytes(count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
    var state = seed == 0 ? 1 : seed
    var bytes = [UInt8](repeating: 0, count: count)
    for index in 0..<count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        bytes[index] = UInt8(truncatingIfNeeded: state >> 24)
    }
    return bytes
}

/// The SHA-256 of a file computed by the `sha256sum` tool (independent of the code under test).
public func sha256sum(file path: String) throws -> String {
    let output = try runCommand(["sha256sum", path])
    guard let hex = output.split(separator: " ").first, hex.count == 64 else {
        throw SupportError("unexpected sha256sum output: \(output)")
    }
    return String(hex)
}
