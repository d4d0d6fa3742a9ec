import Foundation

/// Where the shared real-world fixtures and the package itself are, and gzip'd fixtures unpacked.
public enum Fixtures {
    /// The package's root directory (found through this file's path).
    public static let packageRoot: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// ../shared/fixtures beside the package, or $CHARTSYNC_FIXTURES.
    public static let root: String = {
        if let env = ProcessInfo.processInfo.environment["CHARTSYNC_FIXTURES"], !env.isEmpty { return env }
        return URL(fileURLWithPath: packageRoot).deletingLastPathComponent().appendingPathComponent("shared/fixtures").path
    }()

    /// The absolute path of a fixture.
    public static func path(_ relative: String) -> String { root + "/" + relative }

    /// The data rows (header dropped) of a tab-separated fixture; empty when unreadable, so a
    /// test that counts its rows fails rather than passing on nothing.
    public static func rows(_ relative: String) -> [[String]] {
        guard let text = try? String(contentsOfFile: path(relative), encoding: .utf8) else { return [] }
        return text.split(separator: "\n", omittingEmptySubsequences: true)
            .dropFirst()
            .map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    /// The uncompressed copy of a `.gz` fixture in the temporary directory, made once and shared
    /// by tests running in parallel (each writer renames its own complete copy into place).
    public static func gunzipped(_ relative: String) throws -> String {
        let name = "chartsync-fixture-\(getpid())-" + relative.replacingOccurrences(of: "/", with: "_")
        let out = NSTemporaryDirectory() + "/" + String(name.dropLast(3))
        if FileManager.default.fileExists(atPath: out) { return out }
        try runCommand(["sh", "-c", "gzip -dc \"$0\" > \"$1.$$\" && mv \"$1.$$\" \"$1\"", path(relative), out])
        return out
    }
}
