import ChartSyncTestSupport
import Foundation
import Testing

/// The gate knows helmfile (issue 15, item 3), on the built binary: a project whose
/// helmfile.yaml (local chart paths to vendored unpacked charts and tarballs, a `repo/chart`
/// release, environment values files, a sub-helmfile) passes; after an update removed the
/// vendored chart a release points at, the gate names the release and its line; a chart that is
/// not vendored is `not-vendored`; templates are warnings with file and line, never guessed.
@Suite struct HelmfileGateTests {
    static let root = Fixtures.packageRoot

    static let helmfile = """
        repositories:
          - name: example
            url: https://charts.example.invalid
        environments:
          default:
            values:
              - environments/default.yaml
          production:
            values:
              - environments/production.yaml
              - replicas: 3
        ---
        helmfiles:
          - path: releases/workers.yaml
        releases:
          - name: web
            namespace: web
            chart: ./charts/external/hello-web-v1.1.0
          - name: common
            chart: example/hello-common
            version: "2.0.x"

        """

    static let workers = """
        releases:
          - name: worker
            chart: ../charts/external/hello-worker-0.5.0.tgz
          - name: retired
            chart: ../charts/external/gone-v1.0.0
            installed: false

        """

    /// A copy of this project's vendored tree (chart list, versions.lock, charts/) with the
    /// helmfile above, its environment values files and its sub-helmfile.
    private func project() throws -> PullProject {
        let project = try PullProject(chartList: try String(contentsOfFile: Self.root + "/chartsync.yaml", encoding: .utf8))
        try runCommand(["cp", "-a", Self.root + "/versions.lock", Self.root + "/charts", project.path])
        try project.directory.write("helmfile.yaml", Array(Self.helmfile.utf8))
        try project.directory.write("releases/workers.yaml", Array(Self.workers.utf8))
        try project.directory.write("environments/default.yaml", Array("replicas: 1\n".utf8))
        try project.directory.write("environments/production.yaml", Array("replicas: 2\n".utf8))
        return project
    }

    private func verify(_ project: PullProject, _ arguments: [String] = [], environment: [String: String] = [:]) throws -> CLI.Run {
        try CLI.run(["verify"] + arguments, in: project.path, environment: environment)
    }

    /// The `verify --json` document, validated against docs/schemas/verify-report.schema.json.
    private func report(_ run: CLI.Run) throws -> [String: Any] {
        let scratch = try TemporaryDirectory()
        try scratch.write("report.json", Array(run.stdout.utf8))
        let script = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft202012Validator.check_schema(schema)
            jsonschema.validate(json.load(open(sys.argv[2])), schema, cls=jsonschema.Draft202012Validator)
            """
        try runCommand(["python3", "-c", script, Self.root + "/docs/schemas/verify-report.schema.json", scratch.file("report.json")])
        return try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    }

    private func validateJUnit(_ path: String) throws {
        try runCommand(["xmllint", "--noout", "--schema", Self.root + "/docs/schemas/junit.xsd", path])
    }

    private func entries(_ document: [String: Any], _ key: String) -> [[String: Any]] {
        document[key] as? [[String: Any]] ?? []
    }

    /// `code file:line release` of each problem, sorted.
    private func summary(_ items: [[String: Any]]) -> [String] {
        items.map { "\($0["code"] ?? "") \($0["file"] ?? ""):\($0["line"] ?? 0) \($0["release"] ?? "-")" }.sorted()
    }

    // MARK: - Passing

    @Test func projectWithHelmfilePasses() throws {
        let project = try project()
        let before = try project.snapshot()
        let text = try verify(project, ["--junit", project.path + "/../helmfile-junit.xml"])
        defer { try? FileManager.default.removeItem(atPath: project.path + "/../helmfile-junit.xml") }
        #expect(text.status == 0, "\(text.stdout)\(text.stderr)")
        #expect(text.stdout.contains("; the 3 release(s) of helmfile.yaml use vendored or custom charts"), "\(text.stdout)")
        #expect(!text.stdout.contains("warning"), "\(text.stdout)")
        try validateJUnit(project.path + "/../helmfile-junit.xml")
        let xml = try String(contentsOfFile: project.path + "/../helmfile-junit.xml", encoding: .utf8)
        #expect(xml.contains("<testcase classname=\"chartsync.verify.helmfile\" name=\"helmfile.yaml: releases use vendored or custom charts\" file=\"helmfile.yaml\" time=\"0\"/>"), "\(xml)")
        #expect(xml.contains("file=\"releases/workers.yaml\""), "\(xml)")

        let json = try verify(project, ["--json"])
        #expect(json.status == 0)
        let document = try report(json)
        #expect(document["status"] as? String == "passed")
        let helmfile = try #require(document["helmfile"] as? [String: Any])
        #expect(helmfile["file"] as? String == "helmfile.yaml")
        #expect(helmfile["files"] as? [String] == ["helmfile.yaml", "releases/workers.yaml"])
        #expect(helmfile["releases"] as? Int == 3)
        #expect(entries(document, "warnings").isEmpty)
        #expect(try project.snapshot() == before)
    }

    @Test func withoutHelmfileTheGateIsAsBefore() throws {
        let project = try project()
        for file in ["helmfile.yaml", "releases", "environments"] { try FileManager.default.removeItem(atPath: project.path + "/" + file) }
        let text = try verify(project)
        #expect(text.status == 0, "\(text.stdout)\(text.stderr)")
        #expect(!text.stdout.contains("release"), "\(text.stdout)")
        let document = try report(try verify(project, ["--json"]))
        #expect(document["helmfile"] == nil)
        #expect(entries(document, "warnings").isEmpty)
    }

    @Test func namedHelmfileElsewhereIsReadWithItsOwnPaths() throws {
        let project = try project()
        try FileManager.default.removeItem(atPath: project.path + "/helmfile.yaml")
        try project.directory.write("deploy/site.yaml", Array("""
            releases:
              - name: web
                chart: ../charts/external/hello-web-1.1.0.tgz
              - name: worker
                chart: ../charts/external/hello-worker-v0.5.0

            """.utf8))
        let run = try verify(project, ["--json", "--helmfile", "deploy/site.yaml"])
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        let document = try report(run)
        #expect((document["helmfile"] as? [String: Any])?["file"] as? String == "deploy/site.yaml")
        // hello-worker is locked as a tarball only: its unpacked directory is nothing vendored.
        #expect(summary(entries(document, "problems")) == ["release-chart-missing deploy/site.yaml:5 worker"], "\(run.stdout)")
    }

    // MARK: - Release values files

    @Test func missingReleaseValuesFilesAreNamedWithReleaseFileAndLine() throws {
        let project = try project()
        try project.directory.write("values/web.yaml", Array("replicas: 2\n".utf8))
        try project.directory.write("helmfile.yaml", Array((Self.helmfile + """
            ---
            releases:
              - name: web-site
                chart: ./charts/external/hello-web-v1.1.0
                values:
                  - values/web.yaml
                  - values/site-a.yaml
                  - {inline: true}
                  - values/*.missing.yaml
                  - values/{{ requiredEnv "SITE" }}.yaml
                secrets:
                  - secrets/web.yaml
              - name: tolerant
                chart: ./charts/external/hello-web-v1.1.0
                missingFileHandler: Warn
                values: [values/optional.yaml]
              - name: gone
                chart: ./charts/external/hello-web-v1.1.0
                installed: false
                values: [values/gone.yaml]

            """).utf8))
        let run = try verify(project, ["--json"])
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        let problems = entries(try report(run), "problems")
        #expect(summary(problems) == [
            "release-values-missing helmfile.yaml:28 web-site",
            "release-values-missing helmfile.yaml:30 web-site",
            "release-values-missing helmfile.yaml:33 web-site",
        ], "\(problems)")
        #expect(problems.allSatisfy { $0["check"] as? String == "helmfile" && $0["actual"] as? String == "missing" })
        #expect(problems.first?["expected"] as? String == "values/site-a.yaml: a regular file", "\(problems)")

        let text = try verify(project)
        #expect(text.stdout.contains("helmfile.yaml:28: release web-site: values file values/site-a.yaml is not there"), "\(text.stdout)")
        #expect(text.stdout.contains("helmfile.yaml:33: release web-site: secrets file secrets/web.yaml is not there"), "\(text.stdout)")

        let junit = project.path + "/../values-junit.xml"
        defer { try? FileManager.default.removeItem(atPath: junit) }
        _ = try verify(project, ["--junit", junit])
        try validateJUnit(junit)
        #expect(try String(contentsOfFile: junit, encoding: .utf8).contains("<failure type=\"release-values-missing\" message=\"helmfile.yaml:28: release web-site: values file values/site-a.yaml is not there"))

        // A directory where a values file belongs is no values file either.
        try FileManager.default.createDirectory(atPath: project.path + "/values/site-a.yaml", withIntermediateDirectories: true)
        try project.directory.write("secrets/web.yaml", Array("sops: {}\n".utf8))
        try project.directory.write("values/a.missing.yaml", Array("{}\n".utf8))
        let directory = entries(try report(try verify(project, ["--json"])), "problems")
        #expect(summary(directory) == ["release-values-missing helmfile.yaml:28 web-site"], "\(directory)")
        #expect(directory.first?["actual"] as? String == "a directory")
    }

    // MARK: - helmfile.d/

    @Test func helmfileDirectoryIsReadFileByFileInOrder() throws {
        let project = try project()
        try FileManager.default.removeItem(atPath: project.path + "/helmfile.yaml")
        // helmfile reads every *.y*ml and *.y*ml.gotmpl of helmfile.d/, sorted, when there is no helmfile.yaml.
        try project.directory.write("helmfile.d/20-workers.yaml.gotmpl", Array("""
            releases:
              - name: worker
                chart: ../charts/external/hello-worker-0.5.0.tgz

            """.utf8))
        try project.directory.write("helmfile.d/10-web.yaml", Array("""
            helmfiles:
              - ../releases/workers.yaml
            releases:
              - name: web
                chart: ../charts/external/hello-web-v1.1.0

            """.utf8))
        try project.directory.write("helmfile.d/README.md", Array("releases: [not, read]\n".utf8))
        try project.directory.write("helmfile.d/15-common.yml", Array("""
            releases:
              - name: common
                chart: example/hello-common
                version: "2.0.x"

            """.utf8))

        let run = try verify(project, ["--json"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let helmfile = try #require(try report(run)["helmfile"] as? [String: Any])
        #expect(helmfile["file"] as? String == "helmfile.d")
        #expect(helmfile["files"] as? [String] == ["helmfile.d/10-web.yaml", "helmfile.d/15-common.yml",
                                                   "helmfile.d/20-workers.yaml.gotmpl", "releases/workers.yaml"])
        #expect(helmfile["releases"] as? Int == 4)

        // A release in the third file that points at nothing is named with its file and line.
        try project.directory.write("helmfile.d/20-workers.yaml.gotmpl", Array("""
            releases:
              - name: worker
                chart: ../charts/external/hello-worker-0.4.0.tgz

            """.utf8))
        let broken = try verify(project, ["--json"])
        #expect(broken.status == 1, "\(broken.stdout)")
        #expect(summary(entries(try report(broken), "problems")) == ["release-chart-missing helmfile.d/20-workers.yaml.gotmpl:3 worker"])

        // Named with --helmfile, the directory is read the same way.
        let named = try verify(project, ["--json", "--helmfile", "helmfile.d"])
        #expect(summary(entries(try report(named), "problems")) == ["release-chart-missing helmfile.d/20-workers.yaml.gotmpl:3 worker"])

        // helmfile.yaml beside helmfile.d/: helmfile refuses to choose; the gate says so and reads helmfile.yaml.
        try project.directory.write("helmfile.yaml", Array(Self.helmfile.utf8))
        let both = try verify(project, ["--json"])
        #expect(both.status == 1, "\(both.stdout)")
        let problems = entries(try report(both), "problems")
        #expect(summary(problems) == ["helmfile-invalid helmfile.yaml:0 -"], "\(problems)")
        #expect((problems.first?["message"] as? String)?.contains("both helmfile.yaml and helmfile.d/ exist") == true, "\(problems)")
    }

    // MARK: - The reported case: an update removed the chart a release points at

    @Test func removedVendoredChartNamesTheReleaseAndLine() throws {
        let project = try project()
        try FileManager.default.createSymbolicLink(atPath: project.path + "/examples", withDestinationPath: Self.root + "/examples")
        // The update: hello-web 1.0.x instead of ~1.1; pull replaces hello-web-v1.1.0 with hello-web-v1.0.0.
        try project.setChartList(try project.read("chartsync.yaml").replacingOccurrences(of: "version: \"~1.1\"", with: "version: \"1.0.x\""))
        let pulled = try project.pull()
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(!project.exists("charts/external/hello-web-v1.1.0") && project.exists("charts/external/hello-web-v1.0.0"))

        let text = try verify(project)
        #expect(text.status == 1, "\(text.stdout)\(text.stderr)")
        #expect(text.stdout.contains("helmfile.yaml:18: release web: chart ./charts/external/hello-web-v1.1.0 is not there; versions.lock holds hello-web 1.0.0 (charts/external/hello-web-v1.0.0)"), "\(text.stdout)")
        #expect(text.stdout.contains("1 problem(s) concerning 1 helmfile release(s)"), "\(text.stdout)")

        let document = try report(try verify(project, ["--json"]))
        let problems = entries(document, "problems")
        #expect(summary(problems) == ["release-chart-missing helmfile.yaml:18 web"], "\(problems)")
        #expect(problems.first?["check"] as? String == "helmfile")
        #expect(problems.first?["actual"] as? String == "missing")
        // The locked charts themselves are fine.
        #expect((document["charts"] as? [[String: Any]])?.allSatisfy { $0["status"] as? String == "passed" } == true)

        let parent = URL(fileURLWithPath: project.path).deletingLastPathComponent().path
        let name = URL(fileURLWithPath: project.path).lastPathComponent
        let github = try verify(project, environment: ["GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": parent])
        #expect(github.stdout.contains("::error file=\(name)/helmfile.yaml,line=18,title=chartsync verify%3A release-chart-missing::release web"), "\(github.stdout)")

        let junit = project.path + "/../removed-junit.xml"
        defer { try? FileManager.default.removeItem(atPath: junit) }
        _ = try verify(project, ["--junit", junit])
        try validateJUnit(junit)
        #expect(try String(contentsOfFile: junit, encoding: .utf8).contains("<failure type=\"release-chart-missing\" message=\"helmfile.yaml:18: release web"))
    }

    // MARK: - Charts that are not vendored

    @Test func chartsNotVendoredAreNamedWithReleaseAndLine() throws {
        let project = try project()
        try project.directory.write("helmfile.yaml", Array((Self.helmfile + """
            ---
            helmfiles:
              - releases/missing.yaml
              - releases/*.gotmpl
            releases:
              - name: gpu
                chart: nvidia/gpu-operator
                version: v25.3.0
              - name: registry-chart
                chart: oci://registry.example.invalid/charts/harbor:1.16.0
              - name: old-common
                chart: example/hello-common
                version: "~2.1"
              - name: elsewhere
                chart: ./environments
              - name: stray
                chart: ./charts/custom/nothing

            """).utf8))
        try project.directory.write("charts/custom/nothing/values.yaml", Array("{}\n".utf8))
        try FileManager.default.removeItem(atPath: project.path + "/environments/production.yaml")

        let run = try verify(project, ["--json"])
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        let problems = entries(try report(run), "problems")
        #expect(summary(problems) == [
            "helmfile-file-missing helmfile.yaml:10 -",
            "helmfile-file-missing helmfile.yaml:24 -",
            "helmfile-file-missing helmfile.yaml:25 -",
            "not-vendored helmfile.yaml:28 gpu",
            "not-vendored helmfile.yaml:31 registry-chart",
            "not-vendored helmfile.yaml:36 elsewhere",
            "not-vendored helmfile.yaml:38 stray",
            "release-version-mismatch helmfile.yaml:34 old-common",
        ], "\(run.stdout)")
        let gpu = try #require(problems.first { $0["release"] as? String == "gpu" })
        #expect(gpu["chart"] as? String == "gpu-operator")
        #expect((gpu["message"] as? String)?.contains("versions.lock has no chart gpu-operator") == true, "\(gpu)")
        let old = try #require(problems.first { $0["release"] as? String == "old-common" })
        #expect(old["expected"] as? String == "~2.1" && old["actual"] as? String == "2.0.1", "\(old)")

        let text = try verify(project)
        #expect(text.stdout.contains("helmfile.yaml:10: environment production: values file environments/production.yaml is not there"), "\(text.stdout)")
        #expect(text.stdout.contains("helmfile.yaml:24: sub-helmfile releases/missing.yaml is not there"), "\(text.stdout)")
        #expect(text.stdout.contains("helmfile.yaml:25: sub-helmfile pattern releases/*.gotmpl matches no file"), "\(text.stdout)")
    }

    // MARK: - Templates: warnings, never guessed

    @Test func templatedPartsAreWarningsNamingFileAndLine() throws {
        let project = try project()
        try project.directory.write("helmfile.yaml", Array((Self.helmfile + """
            ---
            helmfiles:
              - releases/*.gotmpl

            """).utf8))
        try project.directory.write("releases/site.yaml.gotmpl", Array("""
            {{ $site := .Environment.Name }}
            releases:
              - name: web-{{ $site }}
                chart: ../charts/external/hello-web-v1.1.0
                version: {{ requiredEnv "WEB_VERSION" }}
              - name: gpu
                chart: {{ .Values.gpuChart }}
            {{- if eq .Environment.Name "production" }}
              - name: worker-prod
                chart: ../charts/external/hello-worker-0.5.0.tgz
            {{- end }}
              - name: token
                chart: example/hello-common
                version: {{ exec "sh" (list "-c" "echo 2.0.1") }}
              - name: {{/* a comment */}}notes
                chart: ../charts/external/hello-web-1.1.0.tgz
                values:
                  - {{ readFile "values/notes.txt" | quote }}

            """.utf8))

        let text = try verify(project)
        #expect(text.status == 0, "\(text.stdout)\(text.stderr)")
        #expect(text.stdout.contains("7 warning(s)"), "\(text.stdout)")
        #expect(text.stdout.contains("releases/site.yaml.gotmpl:1: warning: {{ $site := .Environment.Name }} is not evaluated (it depends on the helmfile environment (.Environment))"), "\(text.stdout)")
        #expect(text.stdout.contains("releases/site.yaml.gotmpl:7: warning: {{ .Values.gpuChart }} is not evaluated (it depends on state values (.Values))"), "\(text.stdout)")

        let document = try report(try verify(project, ["--json"]))
        #expect(document["status"] as? String == "passed")
        let warnings = entries(document, "warnings")
        // Lines 1, 3, 5, 7, 8, 14 and 18; the comment (15) and `{{- end }}` (11) are nothing to evaluate.
        #expect(warnings.map { "\($0["file"] ?? ""):\($0["line"] ?? 0)" } == [1, 3, 5, 7, 8, 14, 18].map { "releases/site.yaml.gotmpl:\($0)" },
                "\(warnings)")
        #expect(warnings.allSatisfy { $0["code"] as? String == "template-not-evaluated" && $0["kind"] as? String == "warning" })
        // The static releases were checked; the one whose chart is a template was not.
        #expect((document["helmfile"] as? [String: Any])?["releases"] as? Int == 3 + 4)

        // A templated release's static chart is still checked: break it, and the gate fails.
        try FileManager.default.removeItem(atPath: project.path + "/charts/external/hello-worker-0.5.0.tgz")
        let broken = try report(try verify(project, ["--json"]))
        #expect(summary(entries(broken, "problems")).contains("release-chart-missing releases/site.yaml.gotmpl:10 worker-prod"), "\(broken)")

        let github = try verify(project, environment: ["GITHUB_ACTIONS": "true"])
        #expect(github.stdout.contains("::warning file="), "\(github.stdout)")
        #expect(github.stdout.contains("site.yaml.gotmpl,line=7,title=chartsync verify%3A template-not-evaluated::"), "\(github.stdout)")

        let junit = project.path + "/../templated-junit.xml"
        defer { try? FileManager.default.removeItem(atPath: junit) }
        _ = try verify(project, ["--junit", junit])
        try validateJUnit(junit)
        #expect(try String(contentsOfFile: junit, encoding: .utf8).contains("<system-out>warning: releases/site.yaml.gotmpl:1: "))
    }

    // MARK: - Usage

    @Test func namedHelmfileThatIsNotThereIsAnInputError() throws {
        let project = try project()
        let run = try verify(project, ["--helmfile", "nowhere/helmfile.yaml"])
        #expect(run.status == 2, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("nowhere/helmfile.yaml: the helmfile is missing"), "\(run.stderr)")
        let json = try verify(project, ["--json", "--helmfile", "nowhere/helmfile.yaml"])
        #expect(json.status == 2)
        #expect(try report(json)["status"] as? String == "error")

        let bundle = try verify(project, ["some.bundle", "--helmfile", "helmfile.yaml"])
        #expect(bundle.status == 2)
        #expect(bundle.stderr.contains("--helmfile is for the working-tree gate"), "\(bundle.stderr)")
    }
}
