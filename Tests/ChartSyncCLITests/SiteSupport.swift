import ChartSyncTestSupport
import Foundation
import Testing

/// A project vendoring hello-web from the embedded example repository, at whatever version a
/// test asks for, so one project can make several deliveries of the same name.
final class ExampleProject {
    let project: PullProject
    var path: String { project.path }

    init() throws {
        project = try PullProject(chartList: Self.chartList(hello: "1.0.0"))
        try FileManager.default.createSymbolicLink(atPath: project.path + "/examples", withDestinationPath: Fixtures.packageRoot + "/examples")
    }

    static func chartList(hello version: String) -> String {
        """
        repositories:
          - name: example
            url: examples/repo
        charts:
          - name: hello-web
            repository: example
            version: "\(version)"

        """
    }

    /// Pulls hello-web at `version` (a pin or a constraint).
    func pull(hello version: String) throws {
        try project.setChartList(Self.chartList(hello: version))
        let pulled = try project.pull()
        #expect(pulled.status == 0, "\(pulled.stderr)")
    }

    /// Pulls hello-web at `version` and writes the bundle `output`; returns `output`.
    @discardableResult
    func bundle(hello version: String, name: String, sequence: Int, to output: String, _ extra: [String] = []) throws -> String {
        try pull(hello: version)
        let made = try CLI.run(["bundle", "-o", output, "--name", name, "--sequence", String(sequence)] + extra, in: path)
        #expect(made.status == 0, "\(made.stderr)")
        return output
    }
}

/// Every path under `path` with what it is (file digest, directory, or link target), as
/// PullProject.snapshot does for a project: equal snapshots mean a byte-identical tree.
func treeSnapshot(_ path: String) throws -> [String] {
    let script = """
        cd "$0" && find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r p; do
          if [ -L "$p" ]; then echo "$p -> $(readlink "$p")";
          elif [ -f "$p" ]; then echo "$p $(stat -c %a "$p") $(sha256sum < "$p" | cut -c1-64)";
          else echo "$p/ $(stat -c %a "$p")"; fi
        done
        """
    return try runCommand(["sh", "-c", script, path]).split(separator: "\n").map(String.init)
}

/// The names in a directory, sorted (dotfiles included).
func entries(_ path: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: path).sorted()
}

/// The inode of `path` (a directory replaced by rename gets another one).
func inodeNumber(_ path: String) throws -> String {
    try runCommand(["stat", "-c", "%i", path]).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// The hex SHA-256 of a file, by sha256sum.
func sha256Hex(of path: String) throws -> String {
    String(try runCommand(["sha256sum", path]).prefix(64))
}

/// Waits until an entry whose name starts with `prefix` appears in `directory` and returns its
/// name; fails after `timeout` seconds, or as soon as `child` (which should make it) has exited.
func waitForEntry(in directory: String, prefix: String, child: ChildProcess, timeout: Double = 60) throws -> String {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        if let found = try FileManager.default.contentsOfDirectory(atPath: directory).first(where: { $0.hasPrefix(prefix) }) {
            return found
        }
        guard child.isRunning else { throw SupportError("chartsync exited before \(prefix)* appeared in \(directory)") }
        guard Date() < deadline else { throw SupportError("no \(prefix)* in \(directory) within \(Int(timeout)) s") }
        usleep(2_000)
    }
}
