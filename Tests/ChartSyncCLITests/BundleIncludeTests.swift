import ChartSyncTestSupport
import Foundation
import Testing

/// `bundle.include`: the deployment definition travels with the charts, proven like them, and
/// lands at the site in place.
@Suite struct BundleIncludeTests {
    /// The project's own example list with a `bundle:` section appended.
    private static func chartList(include: [String]) throws -> String {
        let base = try String(contentsOfFile: Fixtures.packageRoot + "/chartsync.yaml", encoding: .utf8)
        return base + "\nbundle:\n  include:\n" + include.map { "    - \"\($0)\"\n" }.joined()
    }

    /// A pulled copy of the example with a helmfile deployment definition beside the charts.
    private func project(include: [String]) throws -> PullProject {
        let project = try PullProject(chartList: try Self.chartList(include: include))
        try FileManager.default.createSymbolicLink(atPath: project.path + "/examples", withDestinationPath: Fixtures.packageRoot + "/examples")
        let pulled = try project.pull()
        #expect(pulled.status == 0, "\(pulled.stderr)")
        let files: [String: String] = [
            "helmfile.yaml": """
                environments:
                  default:
                    values: [environments/default.yaml]
                releases:
                  - name: web
                    chart: ./charts/external/hello-web-v1.1.0
                    values: [values/web.yaml]

                """,
            "environments/default.yaml": "replicas: 2\n",
            "environments/.gitkeep": "",
            "environments/prod/site.yaml": "site: a\n",
            "values/web.yaml": "image:\n  tag: 1.1.0\n",
            "values/.hidden.yaml": "secret: no\n",
            "values/notes.txt": "not a values file\n",
            "argocd/app.yaml": "kind: Application\n",
            "argocd/README.md": "how to apply\n",
            "charts/custom/site-config/Chart.yaml": "apiVersion: v2\nname: site-config\nversion: 0.1.0\n",
        ]
        for (path, text) in files { try project.directory.write(path, Array(text.utf8)) }
        return project
    }

    private func run(_ arguments: [String], in directory: String) throws -> CLI.Run {
        try CLI.run(arguments, in: directory)
    }

    @Test func theDeploymentDefinitionTravelsByteIdentical() throws {
        // Before the bundle: adding bundle.include to a pulled project leaves versions.lock current.
        let project = try project(include: ["helmfile.yaml", "environments/", "values/*.yaml", "argocd/**/*.yaml",
                                            "chartsync.yaml", "charts/", "*.lock"])
        let gate = try run(["verify"], in: project.path)
        #expect(gate.status == 0, "the include list is not part of the lock's chart-list digest: \(gate.stdout)\(gate.stderr)")

        let out = try TemporaryDirectory()
        let bundle = out.file("site.bundle")
        let made = try run(["bundle", "-o", bundle, "--name", "site-a"], in: project.path)
        #expect(made.status == 0, "\(made.stderr)")
        let site = out.file("site")
        let verified = try run(["verify", bundle, "--extract", site], in: out.path)
        #expect(verified.status == 0, "\(verified.stderr)")

        let included = ["helmfile.yaml", "environments/default.yaml", "environments/.gitkeep", "environments/prod/site.yaml",
                        "values/web.yaml", "argocd/app.yaml"]
        for path in included {
            #expect(try sha256Hex(of: site + "/" + path) == sha256Hex(of: project.path + "/" + path), "\(path)")
        }
        // A glob's * does not match a dotfile, nor another suffix; a directory takes its dotfiles.
        for path in ["values/.hidden.yaml", "values/notes.txt", "argocd/README.md", "examples"] {
            #expect(!FileManager.default.fileExists(atPath: site + "/" + path), "\(path)")
        }
        // Listed in MANIFEST like the charts, each once: what charts/ and the locks carry is not repeated.
        let manifest = try String(contentsOfFile: site + "/.chartsync/MANIFEST", encoding: .utf8)
        for path in included + ["chartsync.yaml", "versions.lock", "charts/custom/site-config/Chart.yaml"] {
            #expect(manifest.components(separatedBy: "\"path\": \"\(path)\"").count == 2, "\(path) once in MANIFEST")
        }
        // The site is the project minus what stays online: helmfile runs there as it did.
        #expect(try entries(site) == [".chartsync", "argocd", "charts", "chartsync.yaml", "environments", "helmfile.yaml",
                                      "index.yaml", "values", "versions.lock"])

        // The same delivery again changes nothing; a site that adds a values file is refused next time.
        let again = try run(["verify", bundle, "--extract", site], in: out.path)
        #expect(again.status == 0 && again.stdout.contains("already installed"), "\(again.stdout)\(again.stderr)")
        try project.directory.write("values/extra.yaml", Array("x: 1\n".utf8))
        let next = try run(["bundle", "-o", out.file("next.bundle"), "--name", "site-a", "--sequence", "2"], in: project.path)
        #expect(next.status == 0, "\(next.stderr)")
        FileManager.default.createFile(atPath: site + "/values/site-local.yaml", contents: Data("y: 2\n".utf8))
        let before = try treeSnapshot(site)
        let refused = try run(["verify", out.file("next.bundle"), "--extract", site], in: out.path)
        #expect(refused.status == 2 && refused.stderr.contains("values/site-local.yaml"), "\(refused.stderr)")
        #expect(try treeSnapshot(site) == before)
    }

    @Test func aLinkIsRefusedNamingTheEntryAndItsLine() throws {
        let project = try project(include: ["helmfile.yaml", "values/"])
        try FileManager.default.createSymbolicLink(atPath: project.path + "/values/shared.yaml", withDestinationPath: "/etc/hostname")
        let out = try TemporaryDirectory()
        let made = try run(["bundle", "-o", out.file("b")], in: project.path)
        #expect(made.status == 1, "\(made.stderr)")
        // The example list has 18 lines; then a blank line, bundle:, include:, helmfile.yaml: values/ is on line 23.
        #expect(made.stderr.contains("line 23: bundle.include \"values/\": values/shared.yaml is a symbolic link"), "\(made.stderr)")
        #expect(try entries(out.path).isEmpty)
    }

    @Test func aLiteralPathThroughALinkedDirectoryIsRefused() throws {
        let project = try project(include: ["linked/app.yaml"])
        let elsewhere = try TemporaryDirectory()
        try elsewhere.write("app.yaml", Array("outside: true\n".utf8))
        try FileManager.default.createSymbolicLink(atPath: project.path + "/linked", withDestinationPath: elsewhere.path)
        let out = try TemporaryDirectory()
        let made = try run(["bundle", "-o", out.file("b")], in: project.path)
        #expect(made.status == 1, "\(made.stderr)")
        #expect(made.stderr.contains("bundle.include \"linked/app.yaml\": linked is a symbolic link"), "\(made.stderr)")
    }

    @Test(arguments: [("../outside.yaml", "leads out of the project"), ("/etc/hostname", "is not relative to the chart list"),
                      ("values/[ab].yaml", "uses [ ] or { }"), ("values//web.yaml", "has an empty component")])
    func aPatternThatCouldLeaveTheProjectIsAListError(_ pattern: String, _ message: String) throws {
        let project = try project(include: [])
        try project.setChartList(try Self.chartList(include: ["helmfile.yaml", pattern]))
        let out = try TemporaryDirectory()
        let made = try run(["bundle", "-o", out.file("b")], in: project.path)
        #expect(made.status == 2, "\(made.stderr)")
        #expect(made.stderr.contains("line 23: bundle.include: \"\(pattern)\" \(message)"), "\(made.stderr)")
        #expect(try entries(out.path).isEmpty)
    }

    @Test func aPatternMatchingNothingIsRefused() throws {
        for pattern in ["helmfile.yml", "releases/*.yaml", "environments/**/*.json", "helmfile.yaml/"] {
            let project = try project(include: ["values/", pattern])
            let out = try TemporaryDirectory()
            let made = try run(["bundle", "-o", out.file("b")], in: project.path)
            #expect(made.status == 2, "\(pattern): \(made.stderr)")
            #expect(made.stderr.contains("line 23: bundle.include \"\(pattern)\" matches nothing"), "\(made.stderr)")
            #expect(try entries(out.path).isEmpty)
        }
    }

    @Test func aPathTheSiteKeepsIsRefused() throws {
        let project = try project(include: ["*.yaml"])
        try project.directory.write("index.yaml", Array("apiVersion: v1\nentries: {}\n".utf8))
        let made = try run(["bundle", "-o", try TemporaryDirectory().file("b")], in: project.path)
        #expect(made.status == 2, "\(made.stderr)")
        #expect(made.stderr.contains("index.yaml is a path chartsync keeps for itself"), "\(made.stderr)")
    }
}
