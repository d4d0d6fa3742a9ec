import ChartSyncCore
import ChartSyncIndex
import ChartSyncTestSupport
import Foundation
import Testing

/// Update, prune and frozen mode against the embedded example repository (a local folder).
@Suite struct PullLifecycleTests {
    static let repo = Fixtures.packageRoot + "/examples/repo"

    private func list(web: String, worker: String? = "0.4.0", unpack: Bool = false) -> String {
        var text = "repositories:\n  - name: example\n    url: \(Self.repo)\ncharts:\n"
        text += "  - name: hello-web\n    repository: example\n    version: \"\(web)\"\n" + (unpack ? "    unpack: true\n" : "")
        if let worker { text += "  - name: hello-worker\n    repository: example\n    version: \"\(worker)\"\n" }
        return text
    }

    @Test func updateReplacesTheOldVersion() throws {
        let project = try PullProject(chartList: list(web: "1.0.0", unpack: true))
        #expect(try project.pull().status == 0)
        #expect(project.exists("charts/external/hello-web-v1.0.0/Chart.yaml"))
        try project.setChartList(list(web: "~1.1", unpack: true))
        let run = try project.pull()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("updated    hello-web 1.0.0 -> 1.1.0"))
        #expect(run.stdout.contains("unchanged  hello-worker 0.4.0"))
        #expect(run.stdout.contains("removed    charts/external/hello-web-1.0.0.tgz"))
        #expect(run.stdout.contains("removed    charts/external/hello-web-v1.0.0"))
        let names = try FileManager.default.contentsOfDirectory(atPath: project.path + "/charts/external").sorted()
        #expect(names == ["hello-web-1.1.0.tgz", "hello-web-v1.1.0", "hello-worker-0.4.0.tgz"])
        let lock = try LockfileCoding.parse(Array(try project.read("versions.lock").utf8), source: "l")
        #expect(lock.entry(named: "hello-web")?.version == "1.1.0" && lock.entry(named: "hello-web")?.constraint == "~1.1")
        #expect(lock.entry(named: "hello-web")?.url == Self.repo + "/hello-web-1.1.0.tgz")
    }

    @Test func removedChartsStayUntilPrune() throws {
        let project = try PullProject(chartList: list(web: "1.1.0"))
        #expect(try project.pull().status == 0)
        try FileManager.default.createDirectory(atPath: project.path + "/charts/external/stray-dir", withIntermediateDirectories: true)
        try project.setChartList(list(web: "1.1.0", worker: nil))
        let kept = try project.pull()
        #expect(kept.status == 0)
        #expect(kept.stdout.contains("unlisted   charts/external/hello-worker-0.4.0.tgz"), "\(kept.stdout)")
        #expect(project.exists("charts/external/hello-worker-0.4.0.tgz"))
        #expect(try project.read("versions.lock").contains("hello-worker") == false)
        let pruned = try project.pull(["--prune", "--json"])
        #expect(pruned.status == 0)
        #expect(pruned.stdout.contains("\"charts/external/hello-worker-0.4.0.tgz\""), "\(pruned.stdout)")
        #expect(pruned.stdout.contains("\"charts/external/stray-dir\""))
        #expect(try FileManager.default.contentsOfDirectory(atPath: project.path + "/charts/external").sorted() == ["hello-web-1.1.0.tgz"])
    }

    @Test func frozenRebuildsFromTheLockAlone() throws {
        let project = try PullProject(chartList: list(web: "~1.0", unpack: true))
        #expect(try project.pull().status == 0)
        let before = try project.snapshot()
        try FileManager.default.removeItem(atPath: project.path + "/charts/external")
        let run = try project.pull(["--frozen"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try project.snapshot() == before)

        // A changed chart list: the lock is stale.
        try project.setChartList(list(web: "~1.1", unpack: true))
        let stale = try project.pull(["--frozen"])
        #expect(stale.status == 1)
        #expect(stale.stderr.contains("versions.lock does not match the chart list"), "\(stale.stderr)")
        #expect(try project.snapshot().filter { !$0.contains("chartsync.yaml") } == before.filter { !$0.contains("chartsync.yaml") })
    }

    @Test func frozenWorksWithARepositoryFolderAboveTheProject() throws {
        // A folder repository written as "../repo": the lock's URLs keep the "..", so a frozen
        // pull finds the tarballs again.
        let outer = try TemporaryDirectory(prefix: "chartsync-outer")
        try runCommand(["cp", "-a", Self.repo, outer.file("repo")])
        try FileManager.default.createDirectory(atPath: outer.file("project"), withIntermediateDirectories: false)
        let text = list(web: "~1.1").replacingOccurrences(of: "url: \(Self.repo)", with: "url: ../repo")
        try outer.write("project/chartsync.yaml", Array(text.utf8))
        let pulled = try CLI.run(["pull"], in: outer.file("project"))
        #expect(pulled.status == 0, "\(pulled.stderr)")
        let lock = try String(contentsOfFile: outer.file("project/versions.lock"), encoding: .utf8)
        #expect(lock.contains("url: \"../repo/hello-web-1.1.0.tgz\""), "\(lock)")
        try FileManager.default.removeItem(atPath: outer.file("project/charts/external"))
        let frozen = try CLI.run(["pull", "--frozen"], in: outer.file("project"))
        #expect(frozen.status == 0, "\(frozen.stderr)")
        #expect(FileManager.default.fileExists(atPath: outer.file("project/charts/external/hello-web-1.1.0.tgz")))
    }

    @Test func frozenRefusesBytesThatDifferFromTheLock() throws {
        let project = try PullProject(chartList: list(web: "1.1.0"))
        #expect(try project.pull().status == 0)
        var lock = try project.read("versions.lock")
        let real = try #require(LockfileCoding.parse(Array(lock.utf8), source: "l").entry(named: "hello-web")?.sha256.hex)
        lock = lock.replacingOccurrences(of: real, with: String(repeating: "a", count: 64))
        try project.directory.write("versions.lock", Array(lock.utf8))
        try FileManager.default.removeItem(atPath: project.path + "/charts/external/hello-web-1.1.0.tgz")
        let run = try project.pull(["--frozen"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("digest mismatch for chart \"hello-web\" 1.1.0"), "\(run.stderr)")
        #expect(!project.exists("charts/external/hello-web-1.1.0.tgz"))
    }

    @Test func frozenWithoutALockIsAnInputError() throws {
        let project = try PullProject(chartList: list(web: "1.1.0"))
        let run = try project.pull(["--frozen"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("versions.lock does not exist"), "\(run.stderr)")
    }

    /// A vendored file damaged on disk is downloaded again (reported as repaired).
    @Test func damagedFileIsRepaired() throws {
        let project = try PullProject(chartList: list(web: "1.1.0"))
        #expect(try project.pull().status == 0)
        let lock = try project.read("versions.lock")
        try project.directory.write("charts/external/hello-web-1.1.0.tgz", Array("garbage".utf8))
        let run = try project.pull()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("repaired   hello-web 1.1.0"), "\(run.stdout)")
        #expect(try project.read("versions.lock") == lock)
    }

    @Test func noMatchingVersionNamesTheNewest() throws {
        let project = try PullProject(chartList: list(web: "^3"))
        let run = try project.pull()
        #expect(run.status == 2)
        #expect(run.stderr.contains("no version of chart \"hello-web\" in \(Self.repo) satisfies \"^3\" (newest: 1.2.0-rc.1)"), "\(run.stderr)")
        #expect(!project.exists("versions.lock"))
    }

    /// The repository's own example: chartsync.yaml, charts/ and versions.lock are exactly what pull writes.
    @Test func theProjectsOwnExampleIsCurrent() throws {
        let project = try PullProject(chartList: try String(contentsOfFile: Fixtures.packageRoot + "/chartsync.yaml", encoding: .utf8))
        try FileManager.default.createSymbolicLink(atPath: project.path + "/examples", withDestinationPath: Fixtures.packageRoot + "/examples")
        let run = try project.pull()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try project.read("versions.lock") == String(contentsOfFile: Fixtures.packageRoot + "/versions.lock", encoding: .utf8))
        let ours = try runCommand(["sh", "-c", "cd \"$0/charts/external\" && find . -type f ! -name .gitkeep | LC_ALL=C sort | xargs sha256sum", Fixtures.packageRoot])
        let fresh = try runCommand(["sh", "-c", "cd \"$0/charts/external\" && find . -type f | LC_ALL=C sort | xargs sha256sum", project.path])
        #expect(ours == fresh)
    }
}
