import ChartSyncCore
import ChartSyncIndex
import Testing

private func parse(_ text: String) -> Helmfile {
    HelmfileReader.parse(Array(text.utf8), source: "helmfile.yaml")
}

@Suite struct HelmfileReaderTests {
    @Test func readsRepositoriesReleasesAndFilesOverEveryPartWithLines() {
        let helmfile = parse("""
            bases: [bases/common.yaml]
            repositories:
              - name: nvidia
                url: https://helm.ngc.nvidia.com/nvidia
              - name: harbor
                url: registry.example.com/charts
                oci: true
            environments:
              default:
                values: [environments/default.yaml, {inline: true}]
                secrets: [environments/secrets.yaml]
              lab:
                missingFileHandler: Warn
                values: [environments/lab.yaml]
            helmDefaults: {wait: true}
            ---
            helmfiles:
              - path: sub/helmfile.yaml
                values: [x.yaml]
              - other/*.yaml
            releases:
              - name: gpu
                namespace: gpu-operator
                chart: nvidia/gpu-operator
                version: "~v25.3"
                values: [values/gpu.yaml]
              - name: local
                chart: ./charts/custom/site
              - name: app
                chart: harbor/app
                secrets: [secrets/app.yaml]
              - name: old
                chart: stable/old
                installed: false
            """)
        #expect(helmfile.invalid.isEmpty, "\(helmfile.invalid)")
        #expect(helmfile.invalidAsWritten == nil)
        #expect(helmfile.templates.isEmpty)
        #expect(helmfile.repositories == [.init(name: "nvidia", url: "https://helm.ngc.nvidia.com/nvidia", oci: false, line: 3),
                                          .init(name: "harbor", url: "registry.example.com/charts", oci: true, line: 5)])
        #expect(helmfile.repositories[1].chartListURL == "oci://registry.example.com/charts")
        #expect(helmfile.releases.map { "\($0.name) \($0.chart ?? "-") \($0.chartLine) \($0.version ?? "-") \($0.versionLine) \($0.uninstalled)" }
                == ["gpu nvidia/gpu-operator 24 ~v25.3 25 false", "local ./charts/custom/site 28 - 27 false",
                    "app harbor/app 30 - 29 false", "old stable/old 33 - 32 true"])
        var gpu = Helmfile.Release(name: "gpu", line: 22, chart: "nvidia/gpu-operator", chartLine: 24, version: "~v25.3", versionLine: 25)
        gpu.values = [.file("values/gpu.yaml", line: 26)]
        #expect(helmfile.releases[0] == gpu)
        #expect(helmfile.releases[2].secrets == [.file("secrets/app.yaml", line: 31)])
        #expect(helmfile.files.map { "\($0.key) \($0.path):\($0.line) \($0.missingAllowed)" } == [
            "bases bases/common.yaml:1 false", "environments.default.values environments/default.yaml:10 false",
            "environments.default.secrets environments/secrets.yaml:11 false", "environments.lab.values environments/lab.yaml:14 true",
            "helmfiles sub/helmfile.yaml:18 false", "helmfiles other/*.yaml:20 false",
            "releases.gpu.values values/gpu.yaml:26 false", "releases.app.secrets secrets/app.yaml:31 false",
        ])
        #expect(helmfile.files[3].kind == .environment("lab", secrets: false))
    }

    @Test(arguments: [
        ("charts/external/gpu-operator-v25.3.0", Helmfile.Release.Source.repository("charts", chart: "external/gpu-operator-v25.3.0")),
        ("charts/custom/site", .local("charts/custom/site")),   // there: helmfile takes it for a path
        ("charts/external/gpu/operator/x", .local("charts/external/gpu/operator/x")),
        ("./charts/x", .local("./charts/x")), ("../shared/chart", .local("../shared/chart")), ("/opt/chart", .local("/opt/chart")),
        ("chart", .local("chart")), ("", .local("")),
        ("stable/x", .repository("stable", chart: "x")), ("harbor/team/app", .repository("harbor", chart: "team/app")),
        ("oci://r.example.com/charts/x:1.0.0", .url("oci://r.example.com/charts/x:1.0.0")),
        ("https://example.com/x-1.0.0.tgz", .url("https://example.com/x-1.0.0.tgz")),
        ("{{ .Values.repo }}/x", .template),
    ])
    func decidesWhereAChartComesFromAsHelmfileDoes(_ chart: String, _ expected: Helmfile.Release.Source) {
        let release = Helmfile.Release(name: "r", line: 1, chart: chart)
        #expect(release.source(pathExists: { $0 == "charts/custom/site" }) == expected)
        #expect(Helmfile.Release(name: "r", line: 1, chart: nil).source(pathExists: { _ in true }) == nil)
    }

    @Test func templatesAreBlankedListedAndKeptAsWrittenNeverEvaluated() {
        let helmfile = parse("""
            {{ $env := .Environment.Name }}
            releases:
            {{- range $i, $r := .Values.extra }}
              - name: {{ $r.name }}
                chart: {{ $r.chart }}
            {{- end }}
              - name: app-{{ env "SITE" }}
                chart: example/app
                version: '{{ requiredEnv "APP_VERSION" }}'
              - name: {{/* comment */}}plain
                chart: ./charts/custom/plain
            """)
        #expect(helmfile.invalid.isEmpty, "\(helmfile.invalid)")
        #expect(helmfile.templates.map(\.line) == [1, 3, 4, 5, 6, 7, 9, 10])
        let unevaluated = helmfile.templates.filter { $0.reason != nil }
        #expect(unevaluated.map(\.line) == [1, 3, 4, 5, 7, 9])
        #expect(unevaluated[0].reason?.contains(".Environment") == true)
        #expect(unevaluated[2].reason == "template variables or functions")
        #expect(unevaluated[4].reason?.contains("environment variable") == true)
        #expect(helmfile.releases.map(\.name) == ["{{ $r.name }}", "app-{{ env \"SITE\" }}", "plain"])
        #expect(helmfile.releases.map { $0.chart.map(Helmfile.isTemplated) } == [true, false, false])
        #expect(helmfile.releases[0].source(pathExists: { _ in false }) == .template)
        #expect(helmfile.releases[1].version == "{{ requiredEnv \"APP_VERSION\" }}")
        #expect(helmfile.releases[1].chartLine == 8)
        // As written, the range's lines are no YAML: a reader that does not render templates is told.
        #expect(helmfile.invalidAsWritten.map { $0.line >= 1 && $0.line <= 6 } == true, "\(String(describing: helmfile.invalidAsWritten))")
    }

    @Test func aTemplateInsideAQuotedValueIsStillYAMLAsWritten() {
        let helmfile = parse("""
            environments:
              prod:
                values:
                  - '{{ requiredEnv "SITE" }}.yaml'
            """)
        #expect(helmfile.invalidAsWritten == nil)
        #expect(helmfile.files.map(\.path) == ["{{ requiredEnv \"SITE\" }}.yaml"])
        #expect(helmfile.templates.map(\.summary) == ["{{ requiredEnv \"SITE\" }}"])
    }

    @Test func partsAreReadOneByOneAndABrokenPartIsReported() {
        let helmfile = parse("""
            releases:
              - name: a
                chart: ./a
            ---
            releases: [unclosed
            ---
            releases:
              - name: b
                chart: ./b
            """)
        #expect(helmfile.releases.map { "\($0.name):\($0.chartLine)" } == ["a:3", "b:9"])
        #expect(helmfile.invalid.count == 1)
        #expect(helmfile.invalid.first?.templated == false)
        #expect(helmfile.invalid.first.map { $0.line >= 5 && $0.line <= 6 } == true, "\(helmfile.invalid)")
    }

    @Test func shapesHelmfileRefusesAreReported() {
        let helmfile = parse("""
            repositories:
              - url: https://charts.example.com
              - name: r
                oci: maybe
            releases: web
            """)
        #expect(helmfile.invalid.map(\.line) == [2, 4, 5], "\(helmfile.invalid)")
        #expect(helmfile.repositories.map(\.name) == ["r"])
    }

    @Test func mergeKeysAndInheritedTemplatesGiveTheChart() {
        let helmfile = parse("""
            templates:
              base: &base
                chart: ./charts/custom/app
                version: 1.0.0
                values: [values/app.yaml]
            releases:
              - name: merged
                <<: *base
              - name: inherited
                inherit:
                  - template: base
              - name: unknown
                inherit:
                  - template: elsewhere
            """)
        #expect(helmfile.invalid.isEmpty, "\(helmfile.invalid)")
        #expect(helmfile.releases.map { "\($0.name) \($0.chart ?? "-") \($0.chartLine) \($0.inheritsUnknown)" }
                == ["merged ./charts/custom/app 3 false", "inherited ./charts/custom/app 3 false", "unknown - 12 true"])
        #expect(helmfile.files.map(\.key) == ["releases.merged.values", "releases.inherited.values"])
    }

    @Test func releaseValuesKeepTheirOrderFilesInlineMappingsAndSets() {
        let helmfile = parse("""
            releases:
              - name: grafana
                chart: grafana/grafana
                missingFileHandler: Warn
                values:
                  - values/grafana.yaml
                  - server:
                      setDatasource:
                        enabled: true
                      tag: 1.10
                      name: "quoted: yes"
                      empty: ~
                      list: [a, "b,c", -1]
                  - values/site.yaml.gotmpl
                  - [not, a, mapping]
                secrets: [secrets/grafana.yaml]
                set:
                  - name: server.image.tag
                    value: "4.6.4"
                  - name: server.args
                    values: [a, b]
                  - name: server.config
                    file: config.txt
                valuesTemplate:
                  - replicas: 2
            """)
        #expect(helmfile.invalid.isEmpty, "\(helmfile.invalid)")
        let release = helmfile.releases[0]
        #expect(release.missingFileHandler == "Warn" && release.toleratesMissingFiles)
        #expect(release.values == [
            .file("values/grafana.yaml", line: 6),
            .inline(#"{"server": {"setDatasource": {"enabled": true}, "tag": 1.10, "name": "quoted: yes", "empty": null, "list": [a, "b,c", -1]}}"#,
                    line: 7, templated: false),
            .file("values/site.yaml.gotmpl", line: 14),
            .invalid(line: 15),
        ])
        #expect(release.secrets == [.file("secrets/grafana.yaml", line: 16)])
        #expect(release.set == [
            .init(name: "server.image.tag", value: .value("4.6.4"), line: 18),
            .init(name: "server.args", value: .values(["a", "b"]), line: 20),
            .init(name: "server.config", value: .file("config.txt"), line: 22),
        ])
        #expect(release.templatedValueKeys == [.init(key: "valuesTemplate", line: 24)])
        // Only paths are files the helmfile names.
        #expect(helmfile.files.map(\.path) == ["values/grafana.yaml", "values/site.yaml.gotmpl", "secrets/grafana.yaml"])
    }

    @Test func inlineValuesAndSetsWithTemplatesAreMarked() {
        let helmfile = parse("""
            releases:
              - name: app
                chart: ./charts/external/app-v1.0.0
                values:
                  - image:
                      tag: {{ .Values.tag }}
                  - plain:
                      key: value
                  - switched:
                  {{- if eq .Environment.Name "prod" }}
                      enabled: true
                  {{- end }}
                      other: x
                  - last: {{/* a comment */}}yes
                set:
                  - name: image.tag
                    value: {{ requiredEnv "TAG" }}
            """)
        let values = helmfile.releases[0].values
        #expect(values.map { value -> Bool? in if case .inline(_, _, let templated) = value { return templated } else { return nil } }
                == [true, false, true, false])
        #expect(helmfile.releases[0].set.map(\.templated) == [true])
    }
}
