import ChartSync
import ChartSyncCore
import ChartSyncIndex
import ChartSyncTestSupport
import ChartSyncTransport
import Foundation
import Testing
import struct Crypto.SHA256

/// One chart of a test's chart list, served by `ExampleRepository` (repository `example`).
struct ListedChart: Sendable, CustomTestStringConvertible {
    /// The chart's name.
    var name: String
    /// The constraint as written; nil leaves `version:` out (newest stable).
    var version: String?
    /// `devel: true`.
    var devel = false
    /// `unpack: true`.
    var unpack = false
    /// `allowMissingDigest: true`.
    var allowMissingDigest = false

    /// The chart's lines in chartsync.yaml.
    var yaml: String {
        "  - name: \(name)\n    repository: example\n"
            + (version.map { "    version: \"\($0)\"\n" } ?? "")
            + (devel ? "    devel: true\n" : "")
            + (unpack ? "    unpack: true\n" : "")
            + (allowMissingDigest ? "    allowMissingDigest: true\n" : "")
    }

    /// `name constraint` as the test's name shows it.
    var testDescription: String {
        "\(name) \(version ?? "(none)")" + (devel ? " devel" : "") + (unpack ? " unpack" : "")
    }
}

/// A throwaway project directory pulled in-process by `Puller`, every fetch answered by a
/// `FakeHTTPClient` serving `repository` (changeable between pulls) and recorded in `recorder`.
final class PullerUnitProject {
    /// The project directory (removed with this object).
    let directory: TemporaryDirectory
    /// Where the project keeps its chart list, charts and lock.
    let layout: ProjectLayout
    /// What the fake client serves on the next pull.
    var repository: ExampleRepository
    /// Every request of every pull, in order.
    let recorder = RequestRecorder()

    /// A project whose chart list names `charts`.
    init(_ charts: [ListedChart], repositoryLines: String = "") throws {
        directory = try TemporaryDirectory(prefix: "chartsync-puller")
        layout = ProjectLayout(chartList: directory.file("chartsync.yaml"))
        repository = try ExampleRepository()
        try setCharts(charts, repositoryLines: repositoryLines)
    }

    /// The project directory's path.
    var path: String { directory.path }

    /// Rewrites chartsync.yaml to list `charts`; `repositoryLines` go under the repository (access settings).
    func setCharts(_ charts: [ListedChart], repositoryLines: String = "") throws {
        let text = "repositories:\n  - name: example\n    url: \(ExampleRepository.url)\n" + repositoryLines
            + "charts:\n" + charts.map(\.yaml).joined()
        try directory.write("chartsync.yaml", Array(text.utf8))
    }

    /// Reads the chart list and pulls it; `client` replaces the fake serving `repository`.
    func pull(frozen: Bool = false, prune: Bool = false, environment: [String: String] = [:],
              cancellation: Cancellation = Cancellation(), client: FakeHTTPClient? = nil) throws -> PullReport {
        let list = try ChartListReader.read(path: layout.chartList)
        let fake = client ?? repository.client(recorder: recorder)
        let puller = Puller(layout: layout, cancellation: cancellation, makeClient: { _, _ in fake })
        return try puller.pull(list, options: PullOptions(jobs: 4, frozen: frozen, prune: prune, environment: environment))
    }

    /// The error a pull that must fail throws; records an issue (and returns nil) when it succeeds.
    func pullFailure(frozen: Bool = false, prune: Bool = false, cancellation: Cancellation = Cancellation(),
                     client: FakeHTTPClient? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> PullError? {
        let list = try ChartListReader.read(path: layout.chartList)
        let fake = client ?? repository.client(recorder: recorder)
        let puller = Puller(layout: layout, cancellation: cancellation, makeClient: { _, _ in fake })
        do {
            let report = try puller.pull(list, options: PullOptions(jobs: 4, frozen: frozen, prune: prune))
            Issue.record("the pull succeeded: \(report.added.count) added, \(report.updated.count) updated", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    /// versions.lock as parsed.
    func lock() throws -> Lockfile {
        try LockfileCoding.parse(Array(try Data(contentsOf: URL(fileURLWithPath: layout.lock))), source: layout.lock)
    }

    /// The names in charts/external, sorted.
    func external() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: layout.external).sorted()
    }

    /// Everything under the project but the chart list: relative path -> SHA-256 of a file, or
    /// "directory"; two equal states mean byte-identical charts/ and versions.lock.
    func state() throws -> [String: String] {
        var out: [String: String] = [:]
        guard let walker = FileManager.default.enumerator(atPath: path) else { return out }
        while let relative = walker.nextObject() as? String {
            if relative == "chartsync.yaml" { continue }
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: path + "/" + relative, isDirectory: &isDirectory)
            out[relative] = isDirectory.boolValue
                ? "directory"
                : Digest(bytes: SHA256.hash(data: try Data(contentsOf: URL(fileURLWithPath: path + "/" + relative)))).hex
        }
        return out
    }

    /// The inode of `relative`: a file rewritten (always by rename) gets a new one.
    func inode(_ relative: String) throws -> UInt64? {
        (try FileManager.default.attributesOfItem(atPath: path + "/" + relative)[.systemFileNumber] as? NSNumber)?.uint64Value
    }
}

/// The tree digest the README defines, computed by the shell pipeline it gives (independent of
/// the code under test).
func shellTreeDigest(_ directory: String) throws -> String {
    let script = "cd \"$0\" && find . -type f | sed 's|^\\./||' | LC_ALL=C sort | xargs sha256sum | sha256sum"
    return String(try runCommand(["sh", "-c", script, directory]).prefix(64))
}
