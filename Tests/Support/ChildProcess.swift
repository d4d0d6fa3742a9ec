import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a test-support helper failed.
public struct SupportError: Error, CustomStringConvertible {
    /// What went wrong.
    public let description: String
    /// Creates an error with a message.
    public init(_ description: String) { self.description = description }
}

/// A child process started with posix_spawn in its own process group, with a pipe on its stdin
/// (closing it tells our supervisors to stop) and optionally a pipe on its stdout.
public final class ChildProcess: @unchecked Sendable {
    /// The process id (also its process group id).
    public let pid: pid_t
    private let lock = NSLock()
    private var stdinFD: Int32
    private var stdoutFD: Int32
    private var buffer: [UInt8] = []
    private var reaped = false
    private var exitCode: Int32?

    private static let ignoreSIGPIPE: Bool = {
        signal(SIGPIPE, SIG_IGN)
        return true
    }()

    /// Starts `arguments` (looked up in PATH); stdout goes to a pipe when `captureStdout`, else to
    /// `outputPath` or /dev/null; stderr goes to `outputPath` or /dev/null.
    public init(_ arguments: [String], captureStdout: Bool = false, outputPath: String? = nil) throws {
        _ = ChildProcess.ignoreSIGPIPE
        // pipe2 does not import: make the pipes close-on-exec under a lock that every spawn here
        // holds too, so that no child of ours inherits another child's pipe.
        ChildProcess.spawnLock.lock()
        defer { ChildProcess.spawnLock.unlock() }
        var inPipe: [Int32] = [-1, -1]
        var outPipe: [Int32] = [-1, -1]
        guard ChildProcess.makePipe(&inPipe) else { throw SupportError("pipe: \(String(cString: strerror(errno)))") }
        if captureStdout {
            guard ChildProcess.makePipe(&outPipe) else {
                close(inPipe[0]); close(inPipe[1])
                throw SupportError("pipe: \(String(cString: strerror(errno)))")
            }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        let sink = outputPath ?? "/dev/null"
        if captureStdout {
            posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, sink, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        }
        posix_spawn_file_actions_addopen(&actions, 2, sink, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Own process group; SIGPIPE back to default; and an empty signal mask, since the spawning
        // thread (a Swift concurrency or Dispatch worker) may block signals such as SIGTERM.
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)

        let argv = arguments.map { strdup($0) } + [nil]
        let environment = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            environment.forEach { free($0) }
        }
        var child: pid_t = 0
        let result = posix_spawnp(&child, arguments[0], &actions, &attributes, argv, environment)
        close(inPipe[0])
        if captureStdout { close(outPipe[1]) }
        guard result == 0 else {
            close(inPipe[1])
            if captureStdout { close(outPipe[0]) }
            throw SupportError("cannot start \(arguments[0]): \(String(cString: strerror(result)))")
        }
        pid = child
        stdinFD = inPipe[1]
        stdoutFD = captureStdout ? outPipe[0] : -1
    }

    deinit {
        terminate()
    }

    private static let spawnLock = NSLock()

    private static func makePipe(_ fds: inout [Int32]) -> Bool {
        guard pipe(&fds) == 0 else { return false }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return true
    }

    /// Writes `line` and a newline to the child's stdin.
    public func writeLine(_ line: String) throws {
        try lock.withLock {
            var bytes = Array(line.utf8) + [10]
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeMutableBytes { write(stdinFD, $0.baseAddress! + offset, $0.count - offset) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw SupportError("cannot write to child \(pid): \(String(cString: strerror(errno)))") }
                offset += n
            }
        }
    }

    /// Reads one line (without the newline) from the child's stdout, waiting at most `timeout` seconds.
    public func readLine(timeout: Double) throws -> String {
        try lock.withLock {
            let deadline = Date().addingTimeInterval(timeout)
            while true {
                if let newline = buffer.firstIndex(of: 10) {
                    let line = String(decoding: buffer[..<newline], as: UTF8.self)
                    buffer.removeSubrange(...newline)
                    return line
                }
                let remaining = deadline.timeIntervalSinceNow
                guard remaining > 0 else { throw SupportError("child \(pid) sent no line within \(timeout) s") }
                var poller = pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)
                let ready = poll(&poller, 1, Int32(min(remaining, 1) * 1000))
                if ready < 0 && errno == EINTR { continue }
                guard ready >= 0 else { throw SupportError("poll: \(String(cString: strerror(errno)))") }
                if ready == 0 { continue }
                var chunk = [UInt8](repeating: 0, count: 65536)
                let n = chunk.withUnsafeMutableBytes { read(stdoutFD, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw SupportError("child \(pid) closed its output") }
                buffer.append(contentsOf: chunk[0..<n])
            }
        }
    }

    /// Waits up to `timeout` seconds for the child to exit; its exit code (128 + signal when a
    /// signal ended it), or nil if it is still running.
    public func wait(timeout: Double) -> Int32? {
        lock.withLock {
            guard waitForExit(seconds: timeout), let status = exitCode else { return nil }
            let signal = status & 0x7f
            return signal == 0 ? (status >> 8) & 0xff : 128 + signal
        }
    }

    /// Whether the child is still running (reaps it when it has exited).
    public var isRunning: Bool {
        lock.withLock { reapIfExited() == nil }
    }

    /// Ends the child: closes its stdin, waits up to `grace` seconds, then SIGTERM, then SIGKILL to
    /// its whole process group. Idempotent.
    public func terminate(grace: Double = 2) {
        lock.withLock {
            if stdinFD >= 0 { close(stdinFD); stdinFD = -1 }
            if !reaped {
                if !waitForExit(seconds: grace) {
                    kill(-pid, SIGTERM)
                    if !waitForExit(seconds: 2) {
                        kill(-pid, SIGKILL)
                        var status: Int32 = 0
                        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                        reaped = true
                    }
                }
            }
            kill(-pid, SIGKILL)  // anything left in the group
            if stdoutFD >= 0 { close(stdoutFD); stdoutFD = -1 }
        }
    }

    private func waitForExit(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if reapIfExited() != nil { return true }
            usleep(10_000)
        }
        return reapIfExited() != nil
    }

    /// The exit status when the child has exited (reaping it once), nil while it runs.
    private func reapIfExited() -> Int32? {
        if reaped { return exitCode ?? -1 }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid || (result < 0 && errno == ECHILD) {
            reaped = true
            exitCode = status
            return status
        }
        return nil
    }
}

/// Runs a command (looked up in PATH) to completion and returns its stdout; fails with its stderr.
@discardableResult
public func runCommand(_ arguments: [String], input: String? = nil) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    if input != nil {
        process.standardInput = Pipe()
    } else {
        process.standardInput = FileHandle.nullDevice
    }
    try process.run()
    if let input, let pipe = process.standardInput as? Pipe {
        pipe.fileHandleForWriting.write(Data(input.utf8))
        try pipe.fileHandleForWriting.close()
    }
    let out = output.fileHandleForReading.readDataToEndOfFile()
    let err = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw SupportError("\(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): "
            + String(decoding: err, as: UTF8.self))
    }
    return String(decoding: out, as: UTF8.self)
}

/// The directory holding the support scripts (found through this file's path, not SwiftPM resources).
let supportScriptsDirectory: String = {
    let thisFile = URL(fileURLWithPath: #filePath)
    return thisFile.deletingLastPathComponent().appendingPathComponent("Scripts").path
}()
