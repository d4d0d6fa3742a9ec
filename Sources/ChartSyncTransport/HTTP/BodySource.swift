import ChartSyncBasics
import Glibc

/// The source of a request body as libcurl reads it (`CURLOPT_READFUNCTION`): bytes in memory or
/// a range of a file, read in the pieces libcurl asks for, from the start again on every attempt.
/// Only the thread running the transfer touches it.
final class BodySource {
    let body: RequestBody
    private var fd: Int32 = -1
    private var sent: Int64 = 0
    /// The errno of a failed read, or EIO when the file ended early.
    private(set) var readErrno: Int32?

    /// Opens the file of a file body (never through a symlink).
    init(_ body: RequestBody) throws(TransportError) {
        self.body = body
        if case let .file(path, _, _) = body {
            fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard fd >= 0 else { throw .io(path: path, message: SystemError.text(errno)) }
        }
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// The path of a file body, "" for bytes.
    var path: String {
        if case let .file(path, _, _) = body { return path }
        return ""
    }

    /// From the first byte again.
    func rewind() {
        sent = 0
        readErrno = nil
    }

    /// Fills up to `capacity` bytes at `buffer`; 0 at the end; `CURL_READFUNC_ABORT` on a failure.
    func read(into buffer: UnsafeMutableRawPointer, capacity: Int) -> Int {
        let left = body.count - sent
        guard left > 0, capacity > 0 else { return 0 }
        let wanted = Int(min(Int64(capacity), left))
        switch body {
        case .bytes(let bytes):
            bytes.withUnsafeBytes { source in
                buffer.copyMemory(from: source.baseAddress! + Int(sent), byteCount: wanted)
            }
            sent += Int64(wanted)
            return wanted
        case let .file(_, offset, _):
            while true {
                let n = pread(fd, buffer, wanted, off_t(offset + sent))
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    readErrno = n < 0 ? errno : EIO
                    return BodySource.abort
                }
                sent += Int64(n)
                return n
            }
        }
    }

    /// libcurl's `CURL_READFUNC_ABORT`.
    static let abort = 0x1000_0000
}
