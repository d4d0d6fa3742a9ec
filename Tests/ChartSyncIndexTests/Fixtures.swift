import Foundation

/// Locates ../shared/fixtures (or $CHARTSYNC_FIXTURES) and unpacks gzip'd fixtures into temp files.
enum Fixtures {
    static let root: URL = {
        if let env = ProcessInfo.processInfo.environment["CHARTSYNC_FIXTURES"] { return URL(fileURLWithPath: env) }
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return package.deletingLastPathComponent().appendingPathComponent("shared/fixtures")
    }()

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// The uncompressed copy of a `.gz` fixture, made once per process.
    static func gunzipped(_ relative: String) throws -> String {
        let out = FileManager.default.temporaryDirectory
            .appendingPathComponent("chartsync-fixture-\(getpid())-" + relative.replacingOccurrences(of: "/", with: "_"))
            .deletingPathExtension()
        if FileManager.default.fileExists(atPath: out.path) { return out.path }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "gzip -dc \"$0\" > \"$1.$$\" && mv \"$1.$$\" \"$1\"", path(relative), out.path]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.fileReadCorruptFile) }
        return out.path
    }
}
