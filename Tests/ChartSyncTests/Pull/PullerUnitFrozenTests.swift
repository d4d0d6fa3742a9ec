import ChartSync
import ChartSyncCore
import ChartSyncTestSupport
import ChartSyncTransport
import Foundation
import Testing

/// `--frozen`: exactly what versions.lock records is fetched (no index), proven against the
/// lock, and a lock that no longer matches the chart list is refused before any fetch.
@Suite struct PullerUnitFrozenTests {
    /// hello-web resolves to 1.0.0 while 1.1.0 is newer: a frozen pull must not move it.
    static let charts = [ListedChart(name: "hello-web", version: "~1.0"), ListedChart(name: "hello-worker", version: "0.4.0")]

    /// A project pulled once; returns it with its state.
    static func pulled(unpack: Bool) throws -> (PullerUnitProject, [String: String]) {
        let project = try PullerUnitProject(charts.map { var c = $0; c.unpack = unpack; return c })
        _ = try project.pull()
        project.recorder.reset()
        return (project, try project.state())
    }

    /// With charts/external gone and the index unreachable, a frozen pull fetches exactly the
    /// locked URLs and rebuilds the first pull's state; with everything in place it fetches nothing.
    @Test(arguments: [false, true])
    func frozenFetchesExactlyTheLockedVersions(_ unpack: Bool) throws {
        let (project, before) = try Self.pulled(unpack: unpack)
        let lock = try project.lock()
        #expect(lock.entries.map(\.version) == ["1.0.0", "0.4.0"])
        project.repository.failures[ExampleRepository.url("index.yaml")] = .httpStatus(url: ExampleRepository.url("index.yaml"), code: 500)

        let unchanged = try project.pull(frozen: true)
        #expect(project.recorder.urls.isEmpty)
        #expect(unchanged.unchanged == lock.entries && !unchanged.lockWritten)

        try FileManager.default.removeItem(atPath: project.layout.external)
        let report = try project.pull(frozen: true)
        #expect(project.recorder.urls.sorted() == lock.entries.map(\.url).sorted())
        #expect(project.recorder.urls.sorted() == ["hello-web-1.0.0.tgz", "hello-worker-0.4.0.tgz"].map(ExampleRepository.url))
        // Nothing of them was there: a frozen pull into an empty charts/external adds them.
        #expect(report.added.sorted { $0.name < $1.name } == lock.entries && report.updated.isEmpty)
        #expect(!report.lockWritten)
        #expect(try project.state() == before)
    }

    /// A chart-list change since the lock was written, and the reason the stale lock names.
    struct Change: Sendable, CustomTestStringConvertible {
        /// What changed.
        let name: String
        /// The chart list after the change.
        let charts: [ListedChart]
        /// The reason `staleLock` gives.
        let reason: String
        /// `name`.
        var testDescription: String { name }
    }

    /// Every kind of change the lock's chart-list digest covers.
    static let changes: [Change] = [
        Change(name: "chart added", charts: charts + [ListedChart(name: "hello-common", version: "2.0.0")],
               reason: "not locked: hello-common"),
        Change(name: "chart removed", charts: [charts[0]], reason: "no longer listed: hello-worker"),
        Change(name: "chart swapped", charts: [charts[0], ListedChart(name: "hello-common", version: "2.0.0")],
               reason: "not locked: hello-common; no longer listed: hello-worker"),
        Change(name: "constraint changed", charts: [ListedChart(name: "hello-web", version: "~1.1"), charts[1]],
               reason: "chart hello-web: version \"~1.1\" does not admit the locked version 1.0.0"),
        Change(name: "unpack turned on", charts: [ListedChart(name: "hello-web", version: "~1.0", unpack: true), charts[1]],
               reason: "chart hello-web: unpack is true, but versions.lock has it packed only"),
        Change(name: "devel turned on", charts: [ListedChart(name: "hello-web", version: "~1.0", devel: true), charts[1]],
               reason: "the chart list changed since the lock was written (devel or allowMissingDigest)"),
    ]

    /// A stale lock is refused naming the lock and the reason; nothing is fetched or changed.
    @Test(arguments: changes)
    func frozenRefusesAStaleLock(_ change: Change) throws {
        let (project, before) = try Self.pulled(unpack: false)
        try project.setCharts(change.charts)

        let error = try #require(try project.pullFailure(frozen: true))
        guard case let .staleLock(path, reason) = error else {
            Issue.record("expected staleLock, got \(error)")
            return
        }
        #expect(path == project.layout.lock)
        #expect(reason == change.reason)
        #expect(error.kind == .verification)
        #expect(project.recorder.urls.isEmpty)
        #expect(try project.state() == before)
    }

    /// Without a lock there is nothing to install.
    @Test func frozenWithoutALockIsRefused() throws {
        let project = try PullerUnitProject(Self.charts)
        let error = try #require(try project.pullFailure(frozen: true))
        guard case let .noLock(path) = error else {
            Issue.record("expected noLock, got \(error)")
            return
        }
        #expect(path == project.layout.lock)
        #expect(error.kind == .input)
        #expect(project.recorder.urls.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: project.layout.lock))
    }

    /// The served bytes must be the lock's: a lock whose digest differs refuses the download.
    @Test func frozenProvesTheBytesAgainstTheLock() throws {
        let (project, _) = try Self.pulled(unpack: false)
        let real = try ExampleRepository.sha256("hello-web-1.0.0.tgz").hex
        let edited = try String(contentsOfFile: project.layout.lock, encoding: .utf8)
            .replacingOccurrences(of: real, with: String(repeating: "a", count: 64))
        try project.directory.write("versions.lock", Array(edited.utf8))
        try FileManager.default.removeItem(atPath: project.layout.external + "/hello-web-1.0.0.tgz")
        let before = try project.state()

        let error = try #require(try project.pullFailure(frozen: true))
        guard case let .digestMismatch(chart, version, url, expected, actual) = error else {
            Issue.record("expected digestMismatch, got \(error)")
            return
        }
        #expect(chart == "hello-web" && version == "1.0.0" && url == ExampleRepository.url("hello-web-1.0.0.tgz"))
        #expect(expected.hex == String(repeating: "a", count: 64) && actual.hex == real)
        #expect(try project.state() == before)
    }

    /// An unpacked tree is proven against the lock's tree digest too.
    @Test func frozenProvesTheTreeAgainstTheLock() throws {
        let (project, _) = try Self.pulled(unpack: true)
        let tree = try #require(try project.lock().entry(named: "hello-web")?.tree)
        let edited = try String(contentsOfFile: project.layout.lock, encoding: .utf8)
            .replacingOccurrences(of: tree.hex, with: String(repeating: "b", count: 64))
        try project.directory.write("versions.lock", Array(edited.utf8))
        try FileManager.default.removeItem(atPath: project.layout.external + "/hello-web-v1.0.0")
        let before = try project.state()

        let error = try #require(try project.pullFailure(frozen: true))
        guard case let .treeMismatch(chart, version, expected, actual) = error else {
            Issue.record("expected treeMismatch, got \(error)")
            return
        }
        #expect(chart == "hello-web" && version == "1.0.0")
        #expect(expected.hex == String(repeating: "b", count: 64) && actual == tree)
        #expect(project.recorder.urls.isEmpty)
        #expect(try project.state() == before)
    }
}
