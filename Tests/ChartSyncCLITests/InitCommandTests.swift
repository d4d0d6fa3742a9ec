import ChartSyncTestSupport
import Foundation
import Testing

/// `chartsync init`: a commented chart list, or one made from a helmfile; never over another.
@Suite struct InitCommandTests {
    private func run(_ arguments: [String], in directory: String) throws -> CLI.Run {
        try CLI.run(arguments, in: directory)
    }

    @Test func writesACommentedListThatPullAcceptsAndNeverOverwrites() throws {
        let project = try TemporaryDirectory()
        let made = try run(["init"], in: project.path)
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.contains("wrote chartsync.yaml: 1 repository, 1 chart"), "\(made.stdout)")
        let written = try String(contentsOfFile: project.file("chartsync.yaml"), encoding: .utf8)
        #expect(written.hasPrefix("# chartsync chart list") && written.contains("# bundle:"), "\(written)")

        // A second init refuses and leaves the list as it was; so does one over a dangling link.
        let again = try run(["init"], in: project.path)
        #expect(again.status == 2 && again.stderr.contains("chartsync.yaml exists"), "\(again.stderr)")
        #expect(try String(contentsOfFile: project.file("chartsync.yaml"), encoding: .utf8) == written)
        try FileManager.default.createSymbolicLink(atPath: project.file("other.yaml"), withDestinationPath: project.file("missing"))
        let overLink = try run(["init", "-f", "other.yaml"], in: project.path)
        #expect(overLink.status == 2, "\(overLink.stderr)")
        #expect(!FileManager.default.fileExists(atPath: project.file("missing")))

        // The example's layout, pointed at the served example repository, is one pull accepts.
        let server = try StaticServer(root: Fixtures.packageRoot + "/examples/repo")
        defer { server.stop() }
        let served = written
            .replacingOccurrences(of: "https://prometheus-community.github.io/helm-charts", with: server.baseURL() + "/")
            .replacingOccurrences(of: "kube-prometheus-stack", with: "hello-web")
            .replacingOccurrences(of: "\"~75.0\"", with: "\"~1.1\"")
        #expect(served != written)
        try project.write("chartsync.yaml", Array(served.utf8))
        let pulled = try run(["pull"], in: project.path)
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(FileManager.default.fileExists(atPath: project.file("charts/external/hello-web-1.1.0.tgz")))
        let gate = try run(["verify"], in: project.path)
        #expect(gate.status == 0, "\(gate.stdout)\(gate.stderr)")
    }

    /// A helmfile project naming the example repository's charts, with an environment and values.
    private func helmfileProject(repository url: String) throws -> TemporaryDirectory {
        let project = try TemporaryDirectory()
        let helmfile = """
            repositories:
              - name: example
                url: \(url)
              - name: unused
                url: https://charts.example.com

            environments:
              default:
                values:
                  - environments/default.yaml
              prod:
                values:
                  - environments/prod.yaml
                  - '{{ requiredEnv "SITE" }}.yaml'

            ---
            releases:
              - name: web
                chart: example/hello-web
                version: "~1.1"
                values:
                  - values/web.yaml
              - name: web-canary
                chart: example/hello-web
                version: "~1.1"
              - name: worker
                chart: example/hello-worker
                version: ">=0.4 <1.0"
              - name: common
                chart: example/hello-common
                version: 2.0.x
              - name: site-config
                chart: ./charts/custom/site-config

            """
        for (path, text) in ["helmfile.yaml": helmfile, "environments/default.yaml": "replicas: 1\n",
                             "environments/prod.yaml": "replicas: 3\n", "values/web.yaml": "tag: x\n"] {
            try project.write(path, Array(text.utf8))
        }
        return project
    }

    @Test func fromHelmfilePullsTheSameChartsAndCarriesTheDefinition() throws {
        let server = try StaticServer(root: Fixtures.packageRoot + "/examples/repo")
        defer { server.stop() }
        let project = try helmfileProject(repository: server.baseURL() + "/")
        let made = try run(["init", "--from-helmfile", "helmfile.yaml"], in: project.path)
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.contains("2 repositories") == false && made.stdout.contains("1 repository, 3 charts"), "\(made.stdout)")
        #expect(made.stdout.contains("bundle.include: helmfile.yaml, environments/default.yaml, environments/prod.yaml, values/web.yaml"),
                "\(made.stdout)")
        // What could not be decided is said, with its line: the template, the local chart, the unused repository.
        #expect(made.stderr.contains("helmfile.yaml: line 14: holds a Go template"), "\(made.stderr)")
        #expect(made.stderr.contains("helmfile.yaml: line 14: environments.prod.values {{ requiredEnv \"SITE\" }}.yaml is a Go template"),
                "\(made.stderr)")
        #expect(made.stderr.contains("line 32: release site-config: local chart ./charts/custom/site-config is not pulled"), "\(made.stderr)")
        #expect(made.stderr.contains("line 4: repository \"unused\" is used by no release"), "\(made.stderr)")
        let written = try String(contentsOfFile: project.file("chartsync.yaml"), encoding: .utf8)
        #expect(written.contains("- name: hello-web    # release web (line 18), web-canary (line 23)"), "\(written)")

        let pulled = try run(["pull"], in: project.path)
        #expect(pulled.status == 0, "\(pulled.stderr)")
        // The same charts the project's own list (the same constraints, written by hand) vendors.
        let vendored = try FileManager.default.contentsOfDirectory(atPath: project.file("charts/external")).sorted()
        #expect(vendored == ["hello-common-2.0.1.tgz", "hello-web-1.1.0.tgz", "hello-worker-0.5.0.tgz"], "\(vendored)")

        // And the bundle carries the definition to the site.
        let out = try TemporaryDirectory()
        let bundled = try run(["bundle", "-o", out.file("b")], in: project.path)
        #expect(bundled.status == 0, "\(bundled.stderr)")
        let verified = try run(["verify", out.file("b"), "--extract", out.file("site")], in: out.path)
        #expect(verified.status == 0, "\(verified.stderr)")
        for path in ["helmfile.yaml", "environments/default.yaml", "environments/prod.yaml", "values/web.yaml"] {
            #expect(try sha256Hex(of: out.file("site/" + path)) == sha256Hex(of: project.file(path)), "\(path)")
        }
    }

    @Test func fromHelmfileWritesOCIRepositoriesWithTheirSchemeAndKeepsTheFirstOfConflictingReleases() throws {
        let project = try TemporaryDirectory()
        try project.write("deploy/helmfile.yaml", Array("""
            repositories:
              - name: harbor
                url: registry.example.com/charts
                oci: true
              - name: stable
                url: https://charts.example.com/stable
            releases:
              - name: a
                chart: harbor/app
                version: 1.2.3
              - name: b
                chart: stable/app
                version: 2.0.0
              - name: c
                chart: stable/db

            """.utf8))
        let made = try run(["init", "--from-helmfile", "deploy/helmfile.yaml"], in: project.path)
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stderr.contains("line 11: release b: chart app differs from release a's (line 8"), "\(made.stderr)")
        let written = try String(contentsOfFile: project.file("chartsync.yaml"), encoding: .utf8)
        #expect(written.contains("url: \"oci://registry.example.com/charts\""), "\(written)")
        #expect(written.contains("url: \"https://charts.example.com/stable\""), "\(written)")
        #expect(written.contains("  include:\n  - deploy/helmfile.yaml\n"), "\(written)")
        #expect(!written.contains("2.0.0"), "\(written)")
    }

    @Test func aHelmfileThatIsNotYAMLBecauseOfTemplatesIsNamedWithItsLine() throws {
        let project = try TemporaryDirectory()
        try project.write("helmfile.yaml", Array("""
            repositories:
              - name: example
                url: https://charts.example.com
            releases:
            {{ range .Values.apps }}
              - name: {{ . }}
                chart: example/{{ . }}
            {{ end }}

            """.utf8))
        let made = try run(["init", "--from-helmfile", "helmfile.yaml"], in: project.path)
        #expect(made.status == 2, "\(made.stderr)")
        #expect(made.stderr.contains("helmfile.yaml: line ") && made.stderr.contains("does not parse as YAML"), "\(made.stderr)")
        #expect(made.stderr.contains("Go templates, which chartsync does not render (line "), "\(made.stderr)")
        #expect(made.stderr.contains("; all on lines 5, 6, 7, 8)"), "\(made.stderr)")
        #expect(!FileManager.default.fileExists(atPath: project.file("chartsync.yaml")))
    }
}
