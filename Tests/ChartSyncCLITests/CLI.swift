import ChartSyncTestSupport
import Foundation

/// Runs the built `chartsync` binary (next to the test bundle, or $CHARTSYNC_BIN).
enum CLI {
    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static let binary: String = {
        if let env = ProcessInfo.processInfo.environment["CHARTSYNC_BIN"] { return env }
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = runner.deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("chartsync").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return Fixtures.packageRoot + "/.build/debug/chartsync"
    }()

    /// Runs chartsync with `arguments` in `directory`, with `environment` added to a minimal one;
    /// through `launcher` (e.g. `setpriv ...`) when one is given.
    static func run(_ arguments: [String], in directory: String = Fixtures.packageRoot,
                    environment: [String: String] = [:], launcher: [String] = []) throws -> Run {
        try program(launcher + [binary] + arguments, in: directory, environment: environment)
    }

    /// Runs any program (`argv[0]` a path) the same way.
    static func program(_ argv: [String], in directory: String, environment: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory(), "LANG": "C"]
        env.merge(environment) { $1 }
        process.environment = env
        // Files rather than pipes: no deadlock whatever the output size.
        let scratch = try TemporaryDirectory(prefix: "chartsync-cli")
        _ = FileManager.default.createFile(atPath: scratch.file("out"), contents: nil)
        _ = FileManager.default.createFile(atPath: scratch.file("err"), contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.file("out")))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.file("err")))
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        let outBytes = try Data(contentsOf: URL(fileURLWithPath: scratch.file("out")))
        let errBytes = try Data(contentsOf: URL(fileURLWithPath: scratch.file("err")))
        return Run(status: process.terminationStatus, stdout: String(decoding: outBytes, as: UTF8.self),
                   stderr: String(decoding: errBytes, as: UTF8.self))
    }
}
