import ChartSyncTestSupport
import Foundation

/// A throwaway project directory with a chart list, for running `chartsync pull` on.
final class PullProject {
    let directory: TemporaryDirectory
    var path: String { directory.path }

    init(chartList: String) throws {
        directory = try TemporaryDirectory(prefix: "chartsync-project")
        try setChartList(chartList)
    }

    func setChartList(_ text: String) throws {
        try directory.write("chartsync.yaml", Array(text.utf8))
    }

    func pull(_ arguments: [String] = [], environment: [String: String] = [:]) throws -> CLI.Run {
        try CLI.run(["pull", "--retries", "2"] + arguments, in: path, environment: environment)
    }

    /// Every path under the project with what it is: file digest, directory, or link target.
    func snapshot() throws -> [String] {
        let script = """
            cd "$0" && find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r p; do
              if [ -L "$p" ]; then echo "$p -> $(readlink "$p")";
              elif [ -f "$p" ]; then echo "$p $(sha256sum < "$p" | cut -c1-64)";
              else echo "$p/"; fi
            done
            """
        return try runCommand(["sh", "-c", script, path]).split(separator: "\n").map(String.init)
    }

    /// Staging directories or temporary files left behind.
    func leftovers() throws -> [String] {
        try snapshot().filter { $0.contains(".chartsync-") }
    }

    func read(_ relative: String) throws -> String {
        try String(contentsOfFile: path + "/" + relative, encoding: .utf8)
    }

    func exists(_ relative: String) -> Bool {
        FileManager.default.fileExists(atPath: path + "/" + relative)
    }
}

/// A chart repository on the fault server: an index chartsync wrote for the given tarballs,
/// each served at /charts/<file> with whatever behaviour a test plans.
struct FaultRepository {
    let server: FaultServer
    let tarballs: [String: [UInt8]]   // file name -> bytes

    /// The embedded example charts, by file name.
    static func example(_ files: [String]) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for file in files {
            out[file] = Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.packageRoot + "/examples/repo/" + file)))
        }
        return out
    }

    /// Serves `index` (text) at /index.yaml and every tarball normally at /charts/<file>.
    init(server: FaultServer, tarballs: [String: [UInt8]], index: String) throws {
        self.server = server
        self.tarballs = tarballs
        try server.plan("/index.yaml", .ok(Array(index.utf8)))
        for (file, bytes) in tarballs { try server.plan("/charts/" + file, .ok(bytes)) }
    }

    var url: String { server.url("") }
}
