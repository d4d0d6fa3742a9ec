import ChartSyncTestSupport
import Foundation
import Testing

/// The trial report's pull fixes, on the built binary: `pull --frozen` names what is stale as the
/// gate does; a chart name the repository does not have suggests the nearest one; a frozen pull
/// into an empty charts/external says `added`, not `repaired`.
@Suite struct TrialPullTests {
    static let root = Fixtures.packageRoot

    /// A copy of this project's vendored tree (chart list, versions.lock, charts/external), with
    /// `examples` linked so the lock's `examples/repo/...` URLs resolve.
    private func vendoredCopy() throws -> PullProject {
        let project = try PullProject(chartList: try String(contentsOfFile: Self.root + "/chartsync.yaml", encoding: .utf8))
        try runCommand(["cp", "-a", Self.root + "/versions.lock", Self.root + "/charts", project.path])
        try FileManager.default.createSymbolicLink(atPath: project.path + "/examples", withDestinationPath: Self.root + "/examples")
        return project
    }

    // MARK: - 8. pull --frozen on a stale lock

    struct StaleCase: Sendable, CustomTestStringConvertible {
        let name: String
        let replace: String
        let with: String
        let reason: String
        var testDescription: String { name }
    }

    static let staleCases: [StaleCase] = [
        StaleCase(name: "constraint no longer admits", replace: "version: \"~1.1\"", with: "version: \"~1.2\"",
                  reason: "chart hello-web: version \"~1.2\" does not admit the locked version 1.1.0"),
        StaleCase(name: "constraint changed", replace: "version: \"~1.1\"", with: "version: \">=1.1.0 <1.2.0\"",
                  reason: "chart hello-web: version is \">=1.1.0 <1.2.0\", but versions.lock resolved 1.1.0 from \"~1.1\""),
        StaleCase(name: "unpack changed", replace: "    unpack: true", with: "    unpack: false",
                  reason: "chart hello-web: unpack is false, but versions.lock has it unpacked"),
        StaleCase(name: "chart added", replace: "    version: \"2.0.x\"\n", with: "    version: \"2.0.x\"\n  - name: hello-extra\n    repository: example\n",
                  reason: "not locked: hello-extra"),
        StaleCase(name: "chart removed", replace: "  - name: hello-common\n    repository: example\n    version: \"2.0.x\"\n", with: "",
                  reason: "no longer listed: hello-common"),
        StaleCase(name: "devel changed", replace: "    version: \"2.0.x\"\n", with: "    version: \"2.0.x\"\n    devel: true\n",
                  reason: "the chart list changed since the lock was written (devel or allowMissingDigest)"),
    ]

    @Test(arguments: staleCases)
    func frozenPullNamesWhatIsStale(_ c: StaleCase) throws {
        let project = try vendoredCopy()
        let list = try project.read("chartsync.yaml")
        try project.setChartList(list.replacingOccurrences(of: c.replace, with: c.with))
        #expect(try project.read("chartsync.yaml") != list, "the edit did not apply")
        let before = try project.snapshot()
        let run = try project.pull(["--frozen"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("\(project.path)/versions.lock does not match the chart list: \(c.reason)"), "\(run.stderr)")
        #expect(run.stderr.hasSuffix("; run chartsync pull without --frozen\n"), "\(run.stderr)")
        #expect(run.stdout.isEmpty, "\(run.stdout)")
        #expect(try project.snapshot() == before)
        #expect(try project.leftovers().isEmpty)
    }

    // MARK: - 9. A chart name the repository does not have

    @Test func misspelledChartSuggestsTheNearestName() throws {
        let repo = Self.root + "/examples/repo"
        let list = "repositories:\n  - name: r\n    url: \(repo)\ncharts:\n  - name: hello-web\n    repository: r\n"
        let project = try PullProject(chartList: list)
        let first = try project.pull()
        #expect(first.status == 0, "\(first.stderr)")

        try project.setChartList(list.replacingOccurrences(of: "name: hello-web", with: "name: hello-wbe"))
        let before = try project.snapshot()
        let typo = try project.pull()
        #expect(typo.status == 2, "\(typo.stderr)")
        #expect(typo.stderr.contains("chart \"hello-wbe\" not found in \(repo); did you mean \"hello-web\"?"), "\(typo.stderr)")
        #expect(try project.snapshot() == before)

        // Nothing near: no suggestion.
        try project.setChartList(list.replacingOccurrences(of: "name: hello-web", with: "name: postgresql"))
        let far = try project.pull()
        #expect(far.status == 2, "\(far.stderr)")
        #expect(far.stderr.contains("chart \"postgresql\" not found in \(repo)\n"), "\(far.stderr)")
        #expect(!far.stderr.contains("did you mean"), "\(far.stderr)")
    }

    // MARK: - 11. A frozen pull into an empty charts/external

    @Test func frozenPullIntoEmptyExternalSaysAdded() throws {
        let project = try vendoredCopy()
        let lock = try project.read("versions.lock")
        try FileManager.default.removeItem(atPath: project.path + "/charts/external")
        try FileManager.default.createDirectory(atPath: project.path + "/charts/external", withIntermediateDirectories: false)
        let run = try project.pull(["--frozen"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == """
            added      hello-common 2.0.1
            added      hello-web 1.1.0
            added      hello-worker 0.5.0
            versions.lock unchanged; 3 added, 0 updated, 0 unchanged, 0 removed

            """, "\(run.stdout)")
        #expect(try project.read("versions.lock") == lock)
        for file in ["hello-common-2.0.1.tgz", "hello-web-1.1.0.tgz", "hello-worker-0.5.0.tgz"] {
            #expect(try sha256sum(file: project.path + "/charts/external/" + file) == sha256sum(file: Self.root + "/charts/external/" + file))
        }
        #expect(try CLI.run(["verify"], in: project.path).status == 0)

        // A tarball that was there but damaged is repaired, not added.
        let worker = project.path + "/charts/external/hello-worker-0.5.0.tgz"
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: worker)))
        bytes[200] ^= 0x01
        try project.directory.write("charts/external/hello-worker-0.5.0.tgz", bytes)
        let repair = try project.pull(["--frozen"])
        #expect(repair.status == 0, "\(repair.stderr)")
        #expect(repair.stdout.contains("repaired   hello-worker 0.5.0\n"), "\(repair.stdout)")
        #expect(repair.stdout.contains("versions.lock unchanged; 0 added, 1 updated, 2 unchanged, 0 removed"), "\(repair.stdout)")
        #expect(try sha256sum(file: worker) == sha256sum(file: Self.root + "/charts/external/hello-worker-0.5.0.tgz"))
    }
}
