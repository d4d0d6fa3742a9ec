import ChartSyncTestSupport
import Foundation
import Testing

/// The trial report's gate and bundle fixes, on the built binary: a gate whose charts failed says
/// it did not check images.lock (text and JUnit `<skipped>`); a Git LFS pointer in charts/external
/// is called one; sync-charts.sh refreshes images.lock between pull and bundle; bundle names
/// images.lock when that is what is stale.
@Suite struct TrialGateTests {
    static let root = Fixtures.packageRoot

    /// A copy of this project's vendored tree: chart list, versions.lock, charts/external, and
    /// images.lock when `images`.
    private func vendoredCopy(images: Bool = false) throws -> PullProject {
        let project = try PullProject(chartList: try String(contentsOfFile: Self.root + "/chartsync.yaml", encoding: .utf8))
        try runCommand(["cp", "-a", Self.root + "/versions.lock", Self.root + "/charts"] + (images ? [Self.root + "/images.lock"] : []) + [project.path])
        return project
    }

    private func validateJUnit(_ path: String) throws {
        try runCommand(["xmllint", "--noout", "--schema", Self.root + "/docs/schemas/junit.xsd", path])
    }

    // MARK: - 7. images.lock not checked when the charts failed

    @Test func failedChartsSkipTheImagesCheckAndSaySo() throws {
        let project = try vendoredCopy(images: true)
        let reports = try TemporaryDirectory()

        // Proven charts: images.lock is checked, nothing skipped.
        let clean = try CLI.run(["verify", "--junit", reports.file("clean.xml")], in: project.path)
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        #expect(clean.stdout.contains("; images.lock matches the charts"), "\(clean.stdout)")
        try validateJUnit(reports.file("clean.xml"))
        let cleanXML = try String(contentsOfFile: reports.file("clean.xml"), encoding: .utf8)
        #expect(cleanXML.contains("tests=\"6\" failures=\"0\" errors=\"0\" skipped=\"0\""), "\(cleanXML)")
        #expect(cleanXML.contains("<testcase classname=\"chartsync.verify.images\" name=\"images.lock matches the charts\" file=\"images.lock\" time=\"0\"/>"), "\(cleanXML)")

        // A truncated tarball: the images check is skipped, and both reports say so.
        try runCommand(["truncate", "-s", "100", project.path + "/charts/external/hello-common-2.0.1.tgz"])
        let before = try project.snapshot()
        let text = try CLI.run(["verify"], in: project.path)
        #expect(text.status == 1, "\(text.stdout)\(text.stderr)")
        #expect(text.stdout.contains("charts/external/hello-common-2.0.1.tgz: expected sha256:"), "\(text.stdout)")
        #expect(text.stdout.contains("1 problem(s) concerning 1 chart(s); 3 chart(s) locked; images.lock not checked (the charts failed, and it is worked out from them)\n"),
                "\(text.stdout)")
        #expect(!text.stdout.contains("images.lock matches"), "\(text.stdout)")

        let junit = try CLI.run(["verify", "--junit", reports.file("failed.xml")], in: project.path)
        #expect(junit.status == 1)
        try validateJUnit(reports.file("failed.xml"))
        let xml = try String(contentsOfFile: reports.file("failed.xml"), encoding: .utf8)
        #expect(xml.contains("<testsuite name=\"chartsync verify \(project.path)\" tests=\"6\" failures=\"1\" errors=\"0\" skipped=\"1\""), "\(xml)")
        #expect(xml.contains("""
                <testcase classname="chartsync.verify.images" name="images.lock matches the charts" file="images.lock" time="0">
                  <skipped message="not checked: the charts failed, and images.lock is worked out from them"/>
                </testcase>
            """), "\(xml)")
        #expect(xml.components(separatedBy: "<skipped").count == 2, "\(xml)")
        // --json says it too (summary.images; GateTests validates every document against the schema).
        let json = try CLI.run(["verify", "--json"], in: project.path)
        let document = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((document?["summary"] as? [String: Any])?["images"] as? String == "skipped", "\(json.stdout)")
        #expect(try project.snapshot() == before)

        // No images.lock and no images section: no images case, nothing skipped.
        try FileManager.default.removeItem(atPath: project.path + "/images.lock")
        let plain = try CLI.run(["verify", "--junit", reports.file("plain.xml")], in: project.path)
        #expect(plain.status == 1)
        #expect(!plain.stdout.contains("images.lock"), "\(plain.stdout)")
        try validateJUnit(reports.file("plain.xml"))
        let plainXML = try String(contentsOfFile: reports.file("plain.xml"), encoding: .utf8)
        #expect(plainXML.contains("tests=\"5\" failures=\"1\" errors=\"0\" skipped=\"0\""), "\(plainXML)")
        #expect(!plainXML.contains("chartsync.verify.images"), "\(plainXML)")
    }

    // MARK: - 10. A Git LFS pointer in charts/external

    @Test func gitLFSPointerIsCalledOne() throws {
        let project = try vendoredCopy()
        let file = "charts/external/hello-web-1.1.0.tgz"
        let digest = try sha256sum(file: project.path + "/" + file)
        let pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:\(digest)\nsize 699\n"
        try project.directory.write(file, Array(pointer.utf8))
        // Beside it, a merely truncated tarball is not called a pointer.
        try runCommand(["truncate", "-s", "100", project.path + "/charts/external/hello-worker-0.5.0.tgz"])
        let before = try project.snapshot()

        let run = try CLI.run(["verify"], in: project.path)
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        let lines = run.stdout.split(separator: "\n")
        let lfs = lines.first { $0.hasPrefix(file + ": ") } ?? ""
        #expect(lfs.hasPrefix("\(file): expected sha256:\(digest) (699 bytes), found sha256:"), "\(run.stdout)")
        #expect(lfs.hasSuffix(" (\(pointer.utf8.count) bytes) (a Git LFS pointer, not the chart: run git lfs pull)"), "\(run.stdout)")
        let truncated = lines.first { $0.hasPrefix("charts/external/hello-worker-0.5.0.tgz: ") } ?? ""
        #expect(truncated.hasSuffix("(100 bytes) (truncated?)"), "\(run.stdout)")
        #expect(run.stdout.components(separatedBy: "Git LFS").count == 2, "\(run.stdout)")
        #expect(run.stderr.contains("verification failed"), "\(run.stderr)")

        let json = try CLI.run(["verify", "--json"], in: project.path)
        #expect(json.status == 1)
        let document = try #require(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let problems = document["problems"] as? [[String: Any]] ?? []
        let problem = try #require(problems.first { $0["file"] as? String == file })
        #expect(problem["code"] as? String == "checksum-mismatch")
        #expect((problem["message"] as? String)?.hasSuffix("(a Git LFS pointer, not the chart: run git lfs pull)") == true, "\(problem)")

        // bundle refuses it in the same words.
        let out = try TemporaryDirectory()
        let bundle = try CLI.run(["bundle", "-o", out.file("site.bundle")], in: project.path)
        #expect(bundle.status == 1, "\(bundle.stderr)")
        #expect(bundle.stderr.contains("\(file): expected sha256:\(digest) (699 bytes)"), "\(bundle.stderr)")
        #expect(bundle.stderr.contains("(a Git LFS pointer, not the chart: run git lfs pull)"), "\(bundle.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty)
        #expect(try project.snapshot() == before)
    }

    // MARK: - 12. sync-charts.sh refreshes images.lock; bundle names it when stale

    /// This project's chart list without hello-worker (busybox's chart), on the example
    /// repository (linked in), to which hello-worker is then added.
    private func projectWithoutWorker() throws -> (PullProject, String) {
        let full = try String(contentsOfFile: Self.root + "/chartsync.yaml", encoding: .utf8)
        let worker = "  - name: hello-worker\n    repository: example\n    version: \">=0.4 <1.0\"\n"
        #expect(full.contains(worker))
        let project = try PullProject(chartList: full.replacingOccurrences(of: worker, with: ""))
        try FileManager.default.createSymbolicLink(atPath: project.path + "/examples", withDestinationPath: Self.root + "/examples")
        return (project, full)
    }

    private func sync(_ project: PullProject, _ bundle: String) throws -> CLI.Run {
        try CLI.program(["/bin/bash", Self.root + "/scripts/sync-charts.sh", bundle], in: project.path,
                        environment: ["CHARTSYNC": CLI.binary])
    }

    /// A file inside a (zstd) bundle, read with zstd and tar.
    private func bundled(_ bundle: String, _ path: String) throws -> String {
        try runCommand(["sh", "-c", "zstd -dc \"$0\" | tar -xOf - \"$1\"", bundle, path])
    }

    @Test func syncScriptRefreshesImagesLockBeforeBundling() throws {
        let (project, full) = try projectWithoutWorker()
        // No images.lock and no images section: none is made.
        let first = try sync(project, "out/first.bundle")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(!project.exists("images.lock"))
        #expect(!(try runCommand(["sh", "-c", "zstd -dc \"$0\" | tar -tf -", project.path + "/out/first.bundle"])).contains("images.lock"))

        // The project starts listing images.
        let images = try CLI.run(["images"], in: project.path)
        #expect(images.status == 0, "\(images.stderr)")
        #expect(try project.read("images.lock").contains("docker.io/library/nginx:1.25.4"))
        #expect(!(try project.read("images.lock")).contains("busybox"))

        // hello-worker added: the script pulls it, brings images.lock up to date, and bundles.
        try project.setChartList(full)
        let synced = try sync(project, "out/site.bundle")
        #expect(synced.status == 0, "\(synced.stdout)\(synced.stderr)")
        #expect(synced.stdout.contains("added      hello-worker 0.5.0"), "\(synced.stdout)")
        #expect(synced.stdout.contains("docker.io/library/busybox:1.36  hello-worker"), "\(synced.stdout)")
        let lock = try project.read("images.lock")
        #expect(lock == (try String(contentsOfFile: Self.root + "/images.lock", encoding: .utf8)), "\(lock)")
        let bundle = project.path + "/out/site.bundle"
        #expect(try bundled(bundle, "payload/images.lock") == lock)
        #expect(try bundled(bundle, "payload/versions.lock").contains("name: hello-worker"))
        #expect(try runCommand(["sh", "-c", "cd \"$0\"/out && sha256sum -c site.bundle.sha256", project.path]).contains("site.bundle: OK"))

        // An images section without images.lock: the script writes it.
        try FileManager.default.removeItem(atPath: project.path + "/images.lock")
        try project.setChartList(full + "images:\n  extra:\n    - busybox:1.37\n")
        let sectioned = try sync(project, "out/third.bundle")
        #expect(sectioned.status == 0, "\(sectioned.stdout)\(sectioned.stderr)")
        #expect(try bundled(project.path + "/out/third.bundle", "payload/images.lock").contains("docker.io/library/busybox:1.37"))
    }

    @Test func bundleOnAStaleImagesLockNamesImagesLock() throws {
        let (project, full) = try projectWithoutWorker()
        #expect(try project.pull().status == 0)
        #expect(try CLI.run(["images"], in: project.path).status == 0)
        try project.setChartList(full)
        let pulled = try project.pull()
        #expect(pulled.status == 0, "\(pulled.stderr)")
        let before = try project.snapshot()
        let out = try TemporaryDirectory()

        let run = try CLI.run(["bundle", "-o", out.file("site.bundle")], in: project.path)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("""
            images.lock is not current for the vendored charts (run chartsync images):
              images.lock: docker.io/library/busybox:1.36 is used by chart(s) hello-worker but images.lock does not list it
            """), "\(run.stderr)")
        #expect(!run.stderr.contains("versions.lock"), "\(run.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty)
        #expect(try project.snapshot() == before)
    }
}
