import ChartSyncTestSupport
import Foundation
import Testing

/// `chartsync verify` without a bundle: the CI checksum gate, on copies of a vendored tree,
/// run as the built binary. Every damaged tree must give the documented exit code, name the
/// file with the expected and actual values, and be left exactly as it was.
@Suite struct GateTests {
    /// A copy of this project's own vendored tree (chart list, versions.lock, charts/external:
    /// what `chartsync pull` wrote, as PullTests proves).
    private func vendoredCopy() throws -> PullProject {
        let root = Fixtures.packageRoot
        let project = try PullProject(chartList: try String(contentsOfFile: root + "/chartsync.yaml", encoding: .utf8))
        try runCommand(["cp", "-a", root + "/versions.lock", root + "/charts", project.path])
        return project
    }

    private func verify(_ project: PullProject, _ arguments: [String] = [], environment: [String: String] = [:],
                        launcher: [String] = []) throws -> CLI.Run {
        try CLI.run(["verify"] + arguments, in: project.path, environment: environment, launcher: launcher)
    }

    /// The `verify --json` document, checked against docs/schemas/verify-report.schema.json.
    private func report(_ run: CLI.Run) throws -> [String: Any] {
        let scratch = try TemporaryDirectory()
        try scratch.write("report.json", Array(run.stdout.utf8))
        try validateJSON(scratch.file("report.json"))
        return try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    }

    private func problems(_ report: [String: Any]) -> [[String: Any]] {
        report["problems"] as? [[String: Any]] ?? []
    }

    private func validateJSON(_ path: String) throws {
        let script = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft202012Validator.check_schema(schema)
            jsonschema.validate(json.load(open(sys.argv[2])), schema, cls=jsonschema.Draft202012Validator)
            """
        try runCommand(["python3", "-c", script, Fixtures.packageRoot + "/docs/schemas/verify-report.schema.json", path])
    }

    private func validateJUnit(_ path: String) throws {
        try runCommand(["xmllint", "--noout", "--schema", Fixtures.packageRoot + "/docs/schemas/junit.xsd", path])
    }

    // MARK: - A good tree

    @Test func cleanTreePassesWithoutOpeningAConnection() throws {
        // Pulled over HTTP from a real nginx, which is then stopped: the repository URL in the
        // chart list and lock now refuses connections, and every proxy variable points at a
        // socket that counts connections. The gate must pass and that socket see nothing.
        let server = try StaticServer(root: Fixtures.packageRoot + "/examples/repo")
        let list = try String(contentsOfFile: Fixtures.packageRoot + "/chartsync.yaml", encoding: .utf8)
            .replacingOccurrences(of: "url: examples/repo", with: "url: \(server.baseURL())/")
        let project = try PullProject(chartList: list)
        let pulled = try project.pull()
        #expect(pulled.status == 0, "\(pulled.stderr)")
        server.stop()
        let counter = try ConnectionCounter()
        let proxy = "http://127.0.0.1:\(counter.port)"
        let environment = ["http_proxy": proxy, "https_proxy": proxy, "HTTP_PROXY": proxy, "HTTPS_PROXY": proxy,
                           "ALL_PROXY": proxy, "all_proxy": proxy]
        let before = try project.snapshot()
        let run = try verify(project, environment: environment)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("verified 3 chart(s)"), "\(run.stdout)")
        #expect(counter.connections() == 0)
        #expect(try project.snapshot() == before)

        let json = try verify(project, ["--json"], environment: environment)
        #expect(json.status == 0)
        let document = try report(json)
        #expect(document["status"] as? String == "passed")
        #expect((document["charts"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["hello-common", "hello-web", "hello-worker"])
        #expect(counter.connections() == 0)
        // The counter does count: one connection made here is seen.
        #expect(LoopbackPort.accepts(counter.port))
        #expect(counter.connections() == 1)
    }

    @Test func projectsOwnTreePasses() throws {
        let run = try CLI.run(["verify"], in: Fixtures.packageRoot)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
    }

    // MARK: - Damage, one kind at a time

    enum Damage: String, CaseIterable, Sendable {
        case flippedByte, truncated, missingChart, extraChart, renamed, symlinkInPlace
        case unpackedFileEdited, unpackedFileRemoved, unpackedFileAdded
        case constraintNoLongerAdmits, constraintChanged, chartAdded, chartRemoved, unpackChanged, develChanged
    }

    /// What each damage must produce: (code, file) pairs, exactly.
    private func expectedProblems(_ damage: Damage) -> [(code: String, file: String)] {
        switch damage {
        case .flippedByte: return [("checksum-mismatch", "charts/external/hello-worker-0.5.0.tgz")]
        case .truncated: return [("checksum-mismatch", "charts/external/hello-common-2.0.1.tgz")]
        case .missingChart: return [("missing", "charts/external/hello-common-2.0.1.tgz")]
        case .extraChart: return [("unlisted", "charts/external/stray-1.0.0.tgz")]
        case .renamed: return [("missing", "charts/external/hello-worker-0.5.0.tgz"), ("unlisted", "charts/external/hello-worker-0.5.1.tgz")]
        case .symlinkInPlace: return [("not-regular", "charts/external/hello-worker-0.5.0.tgz")]
        case .unpackedFileEdited: return [("tree-mismatch", "charts/external/hello-web-v1.1.0/values.yaml")]
        case .unpackedFileRemoved: return [("missing", "charts/external/hello-web-v1.1.0/templates/service.yaml")]
        case .unpackedFileAdded: return [("unlisted", "charts/external/hello-web-v1.1.0/templates/extra.yaml")]
        case .constraintNoLongerAdmits: return [("constraint-not-admitted", "chartsync.yaml")]
        case .constraintChanged: return [("constraint-changed", "chartsync.yaml")]
        case .chartAdded: return [("not-locked", "chartsync.yaml")]
        case .chartRemoved: return [("not-listed", "versions.lock")]
        case .unpackChanged: return [("unpack-changed", "chartsync.yaml")]
        case .develChanged: return [("chart-list-changed", "versions.lock")]
        }
    }

    private func apply(_ damage: Damage, to project: PullProject) throws {
        let external = project.path + "/charts/external/"
        let list = try project.read("chartsync.yaml")
        switch damage {
        case .flippedByte:
            var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: external + "hello-worker-0.5.0.tgz")))
            bytes[200] ^= 0x01
            try project.directory.write("charts/external/hello-worker-0.5.0.tgz", bytes)
        case .truncated:
            try runCommand(["truncate", "-s", "100", external + "hello-common-2.0.1.tgz"])
        case .missingChart:
            try FileManager.default.removeItem(atPath: external + "hello-common-2.0.1.tgz")
        case .extraChart:
            try project.directory.write("charts/external/stray-1.0.0.tgz", Array("not a chart".utf8))
        case .renamed:
            try FileManager.default.moveItem(atPath: external + "hello-worker-0.5.0.tgz", toPath: external + "hello-worker-0.5.1.tgz")
        case .symlinkInPlace:
            // Even a link to the very bytes the lock names is refused: pull never writes one.
            try FileManager.default.moveItem(atPath: external + "hello-worker-0.5.0.tgz", toPath: project.path + "/elsewhere.tgz")
            try FileManager.default.createSymbolicLink(atPath: external + "hello-worker-0.5.0.tgz", withDestinationPath: project.path + "/elsewhere.tgz")
        case .unpackedFileEdited:
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: external + "hello-web-v1.1.0/values.yaml"))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data("replicaCount: 9\n".utf8))
            try handle.close()
        case .unpackedFileRemoved:
            try FileManager.default.removeItem(atPath: external + "hello-web-v1.1.0/templates/service.yaml")
        case .unpackedFileAdded:
            try project.directory.write("charts/external/hello-web-v1.1.0/templates/extra.yaml", Array("kind: ConfigMap\n".utf8))
        case .constraintNoLongerAdmits:
            try project.setChartList(list.replacingOccurrences(of: "version: \"~1.1\"", with: "version: \"~1.2\""))
        case .constraintChanged:
            try project.setChartList(list.replacingOccurrences(of: "version: \"~1.1\"", with: "version: \">=1.1.0 <1.2.0\""))
        case .chartAdded:
            try project.setChartList(list + "  - name: hello-extra\n    repository: example\n")
        case .chartRemoved:
            try project.setChartList(list.replacingOccurrences(of: "  - name: hello-common\n    repository: example\n    version: \"2.0.x\"\n", with: ""))
        case .unpackChanged:
            try project.setChartList(list.replacingOccurrences(of: "    unpack: true", with: "    unpack: false"))
        case .develChanged:
            try project.setChartList(list.replacingOccurrences(of: "    version: \"2.0.x\"\n", with: "    version: \"2.0.x\"\n    devel: true\n"))
        }
        #expect(try project.read("chartsync.yaml") != list || ![.constraintNoLongerAdmits, .constraintChanged, .chartAdded, .chartRemoved, .unpackChanged, .develChanged].contains(damage),
                "the chart list edit for \(damage) did not apply")
    }

    @Test(arguments: Damage.allCases)
    func damageIsReportedWithFileExpectedAndActual(_ damage: Damage) throws {
        let project = try vendoredCopy()
        try apply(damage, to: project)
        let before = try project.snapshot()

        let text = try verify(project)
        #expect(text.status == 1, "\(damage): \(text.stdout)\(text.stderr)")
        for (_, file) in expectedProblems(damage) {
            #expect(text.stdout.contains(file + ":"), "\(damage): \(text.stdout)")
        }
        #expect(text.stderr.contains("verification failed"), "\(text.stderr)")

        let json = try verify(project, ["--json"])
        #expect(json.status == 1)
        let document = try report(json)
        #expect(document["status"] as? String == "failed")
        #expect(document["exitCode"] as? Int == 1)
        let found = problems(document)
        #expect(found.map { "\($0["code"]!) \($0["file"]!)" }.sorted()
                == expectedProblems(damage).map { "\($0.code) \($0.file)" }.sorted(), "\(damage): \(json.stdout)")
        for problem in found {
            let expected = problem["expected"] as? String ?? "", actual = problem["actual"] as? String ?? ""
            #expect(!expected.isEmpty && !actual.isEmpty && expected != actual, "\(problem)")
        }
        // The gate only reads.
        #expect(try project.snapshot() == before)
    }

    @Test func expectedAndActualValuesAreTheRealOnes() throws {
        let project = try vendoredCopy()
        try apply(.truncated, to: project)
        try apply(.constraintNoLongerAdmits, to: project)
        let lock = try project.read("versions.lock")
        let document = try report(try verify(project, ["--json"]))
        let found = problems(document)
        let truncated = try #require(found.first { $0["code"] as? String == "checksum-mismatch" })
        let digest = try sha256sum(file: project.path + "/charts/external/hello-common-2.0.1.tgz")
        #expect((truncated["actual"] as? String) == "sha256:\(digest) (100 bytes)")
        #expect((truncated["expected"] as? String)?.hasPrefix("sha256:") == true)
        #expect(lock.contains(String((truncated["expected"] as? String ?? "").dropFirst(7).prefix(64))))
        #expect((truncated["message"] as? String)?.contains("truncated") == true)
        let stale = try #require(found.first { $0["code"] as? String == "constraint-not-admitted" })
        #expect(stale["line"] as? Int == 11)  // the chart's `version:` line
        #expect(stale["chart"] as? String == "hello-web")
        #expect(stale["actual"] as? String == "1.1.0")
        #expect((stale["expected"] as? String)?.contains("~1.2") == true)
    }

    @Test func everyProblemIsReportedInOneRun() throws {
        let project = try vendoredCopy()
        for damage in [Damage.flippedByte, .missingChart, .extraChart, .unpackedFileEdited, .chartAdded] {
            try apply(damage, to: project)
        }
        let run = try verify(project, ["--json"])
        #expect(run.status == 1)
        let codes = Set(problems(try report(run)).compactMap { $0["code"] as? String })
        #expect(codes == ["checksum-mismatch", "missing", "unlisted", "tree-mismatch", "not-locked"], "\(run.stdout)")
    }

    @Test func unreadableFileIsAnIOFailureNamingTheFile() throws {
        let project = try vendoredCopy()
        // As root, permissions do not stop reads: run the gate as nobody then.
        let launcher = getuid() == 0 ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : []
        try runCommand(["chmod", "-R", "a+rX", project.path])
        chmod(project.path + "/charts/external/hello-worker-0.5.0.tgz", 0)
        let run = try verify(project, ["--json"], launcher: launcher)
        #expect(run.status == 3, "\(run.stdout)\(run.stderr)")
        let found = problems(try report(run))
        #expect(found.count == 1, "\(run.stdout)")
        #expect(found.first?["code"] as? String == "unreadable")
        #expect(found.first?["kind"] as? String == "io")
        #expect(found.first?["file"] as? String == "charts/external/hello-worker-0.5.0.tgz")
        #expect((found.first?["actual"] as? String)?.contains("Permission denied") == true, "\(found)")

        // With a mismatch as well, the mismatch decides: exit 1.
        try apply(.extraChart, to: project)
        try runCommand(["chmod", "a+r", project.path + "/charts/external/stray-1.0.0.tgz"])
        #expect(try verify(project, launcher: launcher).status == 1)
    }

    // MARK: - Chart list and lock errors

    @Test func invalidChartListOrMissingLockIsAnInputError() throws {
        let project = try vendoredCopy()
        let list = try project.read("chartsync.yaml")
        try project.setChartList(list + "surprise: true\n")
        let bad = try verify(project)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("chartsync.yaml") && bad.stderr.contains("surprise"), "\(bad.stderr)")

        let json = try verify(project, ["--json", "--junit", project.path + "/junit.xml"])
        #expect(json.status == 2)
        let document = try report(json)
        #expect(document["status"] as? String == "error")
        #expect((document["error"] as? String)?.contains("surprise") == true)
        try validateJUnit(project.path + "/junit.xml")
        #expect(try project.read("junit.xml").contains("<error type=\"exit-2\""))

        try project.setChartList(list)
        try FileManager.default.removeItem(atPath: project.path + "/versions.lock")
        let noLock = try verify(project)
        #expect(noLock.status == 2)
        #expect(noLock.stderr.contains("versions.lock is missing"), "\(noLock.stderr)")

        let usage = try verify(project, ["--trusted-key", "k.pub"])
        #expect(usage.status == 2)
        #expect(usage.stderr.contains("--trusted-key needs a BUNDLE"), "\(usage.stderr)")
    }

    // MARK: - Machine-readable forms

    @Test func junitReportFollowsItsSchema() throws {
        let project = try vendoredCopy()
        let clean = try verify(project, ["--junit", "clean.xml"])
        #expect(clean.status == 0)
        try validateJUnit(project.path + "/clean.xml")
        let cleanXML = try project.read("clean.xml")
        #expect(cleanXML.contains("tests=\"5\" failures=\"0\" errors=\"0\""), "\(cleanXML)")
        try FileManager.default.removeItem(atPath: project.path + "/clean.xml")

        try apply(.flippedByte, to: project)
        try apply(.extraChart, to: project)
        try apply(.chartAdded, to: project)
        let failed = try verify(project, ["--junit", project.path + "/../gate-junit.xml"])
        #expect(failed.status == 1)
        let path = project.path + "/../gate-junit.xml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try validateJUnit(path)
        let xml = try String(contentsOfFile: path, encoding: .utf8)
        #expect(xml.contains("tests=\"5\" failures=\"3\" errors=\"0\""), "\(xml)")
        #expect(xml.contains("name=\"hello-worker 0.5.0\" file=\"charts/external/hello-worker-0.5.0.tgz\" time=\"0\">\n      <failure type=\"checksum-mismatch\""), "\(xml)")
        #expect(xml.contains("<failure type=\"unlisted\" message=\"charts/external/stray-1.0.0.tgz: not listed in versions.lock"), "\(xml)")
        #expect(xml.contains("<failure type=\"not-locked\""), "\(xml)")
        #expect(xml.contains("name=\"hello-web 1.1.0\" file=\"charts/external/hello-web-1.1.0.tgz\" time=\"0\"/>"), "\(xml)")
    }

    @Test func githubAnnotationsOnlyUnderGitHubActions() throws {
        let project = try vendoredCopy()
        try apply(.flippedByte, to: project)
        try apply(.constraintNoLongerAdmits, to: project)
        let plain = try verify(project)
        #expect(!plain.stdout.contains("::error"))

        let parent = URL(fileURLWithPath: project.path).deletingLastPathComponent().path
        let name = URL(fileURLWithPath: project.path).lastPathComponent
        let github = try verify(project, environment: ["GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": parent])
        #expect(github.status == 1)
        let annotations = github.stdout.split(separator: "\n").filter { $0.hasPrefix("::error ") }
        #expect(annotations.count == 2, "\(github.stdout)")
        #expect(annotations.contains { $0.hasPrefix("::error file=\(name)/charts/external/hello-worker-0.5.0.tgz,title=chartsync verify%3A checksum-mismatch::expected sha256:") })
        #expect(annotations.contains { $0.hasPrefix("::error file=\(name)/chartsync.yaml,line=11,title=chartsync verify%3A constraint-not-admitted::") })

        // With --json, stdout stays one JSON document; the annotations go to stderr.
        let json = try verify(project, ["--json"], environment: ["GITHUB_ACTIONS": "true"])
        _ = try report(json)
        #expect(json.stderr.split(separator: "\n").filter { $0.hasPrefix("::error file=charts/external/") }.count == 1, "\(json.stderr)")
    }

    // MARK: - Wrappers and CI examples

    @Test func wrapperScriptsPullBundleAndGate() throws {
        let root = Fixtures.packageRoot
        let project = try PullProject(chartList: try String(contentsOfFile: root + "/chartsync.yaml", encoding: .utf8))
        try FileManager.default.createSymbolicLink(atPath: project.path + "/examples", withDestinationPath: root + "/examples")
        let environment = ["CHARTSYNC": CLI.binary]

        let synced = try CLI.program(["/bin/bash", root + "/scripts/sync-charts.sh", "out/site.bundle"], in: project.path, environment: environment)
        #expect(synced.status == 0, "\(synced.stderr)")
        #expect(project.exists("versions.lock") && project.exists("charts/external/hello-web-1.1.0.tgz"))
        #expect(try runCommand(["sh", "-c", "cd \"$0\"/out && sha256sum -c site.bundle.sha256", project.path]).contains("site.bundle: OK"))

        let gated = try CLI.program(["/bin/bash", root + "/scripts/validate.sh"], in: project.path,
                                    environment: environment.merging(["JUNIT": "gate.xml"]) { $1 })
        #expect(gated.status == 0, "\(gated.stdout)\(gated.stderr)")
        try validateJUnit(project.path + "/gate.xml")

        try apply(.missingChart, to: project)
        let failed = try CLI.program(["/bin/bash", root + "/scripts/validate.sh", "chartsync.yaml"], in: project.path,
                                     environment: environment.merging(["JSON": "1"]) { $1 })
        #expect(failed.status == 1)
        #expect(problems(try report(failed)).map { $0["code"] as? String } == ["missing"])

        // A failed pull bundles nothing.
        try project.setChartList(try project.read("chartsync.yaml").replacingOccurrences(of: "2.0.x", with: "9.9.x"))
        let noMatch = try CLI.program(["/bin/bash", root + "/scripts/sync-charts.sh", "out/next.bundle"], in: project.path, environment: environment)
        #expect(noMatch.status == 2, "\(noMatch.stderr)")
        #expect(!project.exists("out/next.bundle"))
    }

    @Test func ciExamplesRunTheGate() throws {
        // Each example parses as YAML and runs `chartsync verify` with a JUnit report.
        let script = """
            import sys, yaml
            doc = yaml.safe_load(open(sys.argv[1]))
            text = open(sys.argv[1]).read()
            assert isinstance(doc, dict) and doc, "empty"
            assert "chartsync verify --junit chartsync-verify.xml" in text
            """
        for name in ["github-actions.yml", "gitlab-ci.yml"] {
            try runCommand(["python3", "-c", script, Fixtures.packageRoot + "/docs/ci/" + name])
        }
    }
}
