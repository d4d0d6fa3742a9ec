import ChartSync
import ChartSyncCore
import ChartSyncTestSupport
import Foundation
import Testing

/// Committing: what a second pull keeps, repairs or rebuilds without a download, superseded
/// versions and unlisted paths (prune), and the tree digest of unpacked charts.
@Suite struct PullerUnitCommitTests {
    /// The chart the tests change.
    static let web = ListedChart(name: "hello-web", version: "1.1.0")
    /// A chart that stays as it is.
    static let worker = ListedChart(name: "hello-worker", version: "0.4.0")

    /// Nothing changed: only the index is fetched, every chart is reported unchanged, and no file
    /// is rewritten (same bytes, same inodes: every write chartsync does is a rename).
    @Test(arguments: [false, true])
    func secondPullDownloadsNoTarball(_ unpack: Bool) throws {
        var web = Self.web, worker = Self.worker
        web.unpack = unpack
        worker.unpack = unpack
        let project = try PullerUnitProject([web, worker])
        let first = try project.pull()
        #expect(first.added.count == 2)
        let before = try project.state()
        let names = try project.external()
        let inodes = try (["versions.lock"] + names.map { "charts/external/" + $0 }).map(project.inode)
        #expect(names == (unpack ? ["hello-web-1.1.0.tgz", "hello-web-v1.1.0", "hello-worker-0.4.0.tgz", "hello-worker-v0.4.0"]
                                 : ["hello-web-1.1.0.tgz", "hello-worker-0.4.0.tgz"]))

        project.recorder.reset()
        let second = try project.pull()
        #expect(project.recorder.urls == [ExampleRepository.url("index.yaml")])
        #expect(second.unchanged.map(\.name).sorted() == ["hello-web", "hello-worker"])
        #expect(second.unchanged.sorted { $0.name < $1.name } == (try project.lock()).entries)
        #expect(second.added.isEmpty && second.updated.isEmpty && second.removed.isEmpty && second.unlisted.isEmpty)
        #expect(!second.lockWritten)
        #expect(second.downloadedBytes == 0)
        #expect(try project.state() == before)
        #expect(try (["versions.lock"] + names.map { "charts/external/" + $0 }).map(project.inode) == inodes)
    }

    /// Damage to what is vendored, and whether repairing it needs the tarball again.
    enum Damage: String, Sendable, CaseIterable, CustomTestStringConvertible {
        case tarballGarbled, tarballTruncated, tarballRemoved, treeFileEdited, treeFileAdded, treeRemoved, unpackTurnedOn


        /// Whether the chart is listed with `unpack: true` for the second pull.
        var unpack: Bool { self != .tarballGarbled && self != .tarballTruncated && self != .tarballRemoved }
        /// Whether the tarball must be downloaded again (an unpacked tree is rebuilt from a proven tarball).
        var downloads: Bool { !unpack }
        /// The case's name.
        var testDescription: String { rawValue }

        /// Damages hello-web 1.1.0 in `project`.
        func apply(to project: PullerUnitProject) throws {
            let tarball = project.layout.external + "/hello-web-1.1.0.tgz"
            let tree = project.layout.external + "/hello-web-v1.1.0"
            switch self {
            case .tarballGarbled: try Data("garbage".utf8).write(to: URL(fileURLWithPath: tarball))
            case .tarballTruncated: try Data(try ExampleRepository.bytes("hello-web-1.1.0.tgz").dropLast()).write(to: URL(fileURLWithPath: tarball))
            case .tarballRemoved: try FileManager.default.removeItem(atPath: tarball)
            case .treeFileEdited: try Data("name: changed\n".utf8).write(to: URL(fileURLWithPath: tree + "/Chart.yaml"))
            case .treeFileAdded: try Data("extra\n".utf8).write(to: URL(fileURLWithPath: tree + "/extra.txt"))
            case .treeRemoved: try FileManager.default.removeItem(atPath: tree)
            case .unpackTurnedOn: break
            }
        }
    }

    /// What is damaged is rebuilt to exactly the first pull's state, reported as updated, the
    /// lock left as it was; a tree is rebuilt from the proven tarball without a download.
    @Test(arguments: Damage.allCases)
    func damagedChartIsRepaired(_ damage: Damage) throws {
        var web = Self.web
        web.unpack = damage != .unpackTurnedOn && damage.unpack
        let project = try PullerUnitProject([web, Self.worker])
        _ = try project.pull()
        if damage == .unpackTurnedOn {
            web.unpack = true
            try project.setCharts([web, Self.worker])
        }
        // The state to come back to: the same list pulled into a fresh project.
        let reference = try PullerUnitProject([web, Self.worker])
        _ = try reference.pull()
        let expected = try reference.state()
        let lockBytes = try Data(contentsOf: URL(fileURLWithPath: reference.layout.lock))
        try damage.apply(to: project)
        #expect(try project.state() != expected)

        project.recorder.reset()
        let report = try project.pull()
        #expect(project.recorder.urls == [ExampleRepository.url("index.yaml")]
                + (damage.downloads ? [ExampleRepository.url("hello-web-1.1.0.tgz")] : []))
        #expect(try project.state() == expected)
        #expect(try Data(contentsOf: URL(fileURLWithPath: project.layout.lock)) == lockBytes)
        if damage == .tarballRemoved {
            // Nothing of the chart was left: putting it back is adding it.
            #expect(report.added == [try project.lock().entry(named: "hello-web")].compactMap { $0 } && report.updated.isEmpty)
        } else {
            #expect(report.updated.map(\.to.name) == ["hello-web"])
            #expect(report.updated.first?.from.version == "1.1.0")
            #expect(report.updated.first?.to == (try project.lock().entry(named: "hello-web")))
        }
        #expect(report.unchanged.map(\.name) == ["hello-worker"])
        #expect(report.lockWritten == (damage == .unpackTurnedOn))
        #expect(report.downloadedBytes == (damage.downloads ? Int64(try ExampleRepository.bytes("hello-web-1.1.0.tgz").count) : 0))
    }

    /// A new version replaces the old one: its tarball and tree go even without prune.
    @Test func updateRemovesTheSupersededVersion() throws {
        let project = try PullerUnitProject([ListedChart(name: "hello-web", version: "~1.0", unpack: true), Self.worker])
        _ = try project.pull()
        let old = try #require(try project.lock().entry(named: "hello-web"))
        #expect(old.version == "1.0.0")
        try project.setCharts([ListedChart(name: "hello-web", version: "~1.1", unpack: true), Self.worker])

        project.recorder.reset()
        let report = try project.pull()
        #expect(project.recorder.urls == ["index.yaml", "hello-web-1.1.0.tgz"].map(ExampleRepository.url))
        let new = try #require(try project.lock().entry(named: "hello-web"))
        #expect(new.version == "1.1.0" && new.constraint == "~1.1")
        #expect(report.updated.count == 1 && report.updated.first?.from == old && report.updated.first?.to == new)
        #expect(report.removed.sorted() == ["charts/external/hello-web-1.0.0.tgz", "charts/external/hello-web-v1.0.0"])
        #expect(report.lockWritten)
        #expect(try project.external() == ["hello-web-1.1.0.tgz", "hello-web-v1.1.0", "hello-worker-0.4.0.tgz"])
    }

    /// A chart dropped from the list and stray paths stay (reported unlisted) until prune, which
    /// removes all of them; dotfiles stay either way.
    @Test(arguments: [false, true])
    func unlistedPathsGoOnlyWithPrune(_ prune: Bool) throws {
        let project = try PullerUnitProject([Self.web, Self.worker])
        _ = try project.pull()
        try project.directory.write("charts/external/stray-dir/file", Array("stray".utf8))
        try project.directory.write("charts/external/stray-9.9.9.tgz", Array("stray".utf8))
        try project.directory.write("charts/external/.gitkeep", [])
        try project.setCharts([Self.web])

        project.recorder.reset()
        let report = try project.pull(prune: prune)
        let strays = ["charts/external/hello-worker-0.4.0.tgz", "charts/external/stray-9.9.9.tgz", "charts/external/stray-dir"]
        #expect(project.recorder.urls == [ExampleRepository.url("index.yaml")])
        #expect(report.removed.sorted() == (prune ? strays : []))
        #expect(report.unlisted.sorted() == (prune ? [] : strays))
        #expect(report.unchanged.map(\.name) == ["hello-web"])
        #expect(report.lockWritten)
        #expect(try project.lock().entries.map(\.name) == ["hello-web"])
        #expect(try project.external() == (prune
            ? [".gitkeep", "hello-web-1.1.0.tgz"]
            : [".gitkeep", "hello-web-1.1.0.tgz", "hello-worker-0.4.0.tgz", "stray-9.9.9.tgz", "stray-dir"]))
    }

    /// `unpack: true` writes the chart's files under `<name>-v<version>/` and locks their tree
    /// digest: the README's shell pipeline over that directory and over `tar -xzf` of the
    /// repository's tarball gives the same digest.
    @Test(arguments: ["hello-web-1.0.0", "hello-web-1.1.0", "hello-worker-0.5.0", "hello-common-2.0.1"])
    func unpackLocksTheTreeDigest(_ release: String) throws {
        let dash = release.lastIndex(of: "-")!
        let name = String(release[..<dash]), version = String(release[release.index(after: dash)...])
        let project = try PullerUnitProject([ListedChart(name: name, version: version, unpack: true)])
        let report = try project.pull()

        let directory = project.layout.external + "/\(name)-v\(version)"
        #expect(FileManager.default.fileExists(atPath: directory + "/Chart.yaml"))
        let unpacked = try shellTreeDigest(directory)
        let scratch = try TemporaryDirectory()
        try runCommand(["tar", "-xzf", ExampleRepository.folder + "/\(release).tgz", "-C", scratch.path])
        #expect(try shellTreeDigest(scratch.file(name)) == unpacked)
        let entry = try #require(try project.lock().entry(named: name))
        #expect(entry.tree?.hex == unpacked)
        #expect(report.added.first?.tree == entry.tree)
        #expect(entry.sha256 == (try ExampleRepository.sha256("\(release).tgz")))
        #expect(try project.external() == ["\(release).tgz", "\(name)-v\(version)"])
    }
}
