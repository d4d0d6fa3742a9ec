import ChartSyncCore
import ChartSyncIndex
import Testing

private func parse(_ text: String) throws(HelmfileError) -> Helmfile {
    try HelmfileReader.parse(Array(text.utf8), source: "helmfile.yaml")
}

@Suite struct HelmfileReaderTests {
    @Test func readsRepositoriesReleasesAndFilesOverEveryDocument() throws {
        let helmfile = try parse("""
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
            helmDefaults: {wait: true}
            ---
            helmfiles:
              - path: sub/helmfile.yaml
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
            """)
        #expect(helmfile.repositories == [.init(name: "nvidia", url: "https://helm.ngc.nvidia.com/nvidia", oci: false, line: 3),
                                          .init(name: "harbor", url: "registry.example.com/charts", oci: true, line: 5)])
        #expect(helmfile.repositories[1].chartListURL == "oci://registry.example.com/charts")
        #expect(helmfile.releases.map(\.name) == ["gpu", "local", "app"])
        #expect(helmfile.releases[0] == .init(name: "gpu", chart: "nvidia/gpu-operator", version: "~v25.3", line: 18))
        #expect(helmfile.files.map(\.path) == ["bases/common.yaml", "environments/default.yaml", "environments/secrets.yaml",
                                               "sub/helmfile.yaml", "other/*.yaml", "values/gpu.yaml"])
        #expect(helmfile.files.map(\.key) == ["bases", "environments.default.values", "environments.default.secrets",
                                              "helmfiles", "helmfiles", "releases.gpu.values"])
        #expect(helmfile.templateLines.isEmpty)
        let sources = helmfile.releases.map { $0.source(repositories: helmfile.repositories) }
        #expect(sources == [.repository("nvidia", chart: "gpu-operator"), .local("./charts/custom/site"), .repository("harbor", chart: "app")])
    }

    @Test(arguments: [
        ("charts/external/gpu-operator-v25.3.0", Helmfile.Release.Source.local("charts/external/gpu-operator-v25.3.0")),
        ("../shared/chart", .local("../shared/chart")), ("/opt/chart", .local("/opt/chart")), ("stable/x", .unknownRepository("stable", chart: "x")),
        ("oci://r.example.com/charts/x", .oci("oci://r.example.com/charts/x")), ("{{ .Values.repo }}/x", .template),
        ("nvidia/gpu-operator", .repository("nvidia", chart: "gpu-operator")),
    ])
    func decidesWhereAChartComesFromAsHelmfileDoes(_ chart: String, _ expected: Helmfile.Release.Source) {
        let release = Helmfile.Release(name: "r", chart: chart)
        #expect(release.source(repositories: [.init(name: "nvidia", url: "https://x")]) == expected)
    }

    @Test func templatesAreReportedNotGuessed() throws {
        let helmfile = try parse("""
            releases:
              - name: app
                chart: nvidia/gpu-operator
                version: '{{ .Values.gpuVersion }}'
            """)
        #expect(helmfile.templateLines == [4])
        #expect(helmfile.releases[0].version == "{{ .Values.gpuVersion }}")
        #expect(throws: HelmfileError.self) {
            try parse("releases:\n{{ range .Values.apps }}\n  - name: {{ . }}\n{{ end }}\n")
        }
    }
}
