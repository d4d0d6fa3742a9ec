import ChartSync
import ChartSyncBasics
import ChartSyncCore
import ChartSyncIndex
import ChartSyncTestSupport
import Foundation
import Testing

/// The image scan with the values of the project's helmfile releases: each release of a vendored
/// chart is one more render of it (the chart list's values files, then the release's `values:`
/// in order, then its `set:`), the chart's images the union over its renders; cross-checked with
/// real Helm 4 rendering the same values.
@Suite struct HelmfileImageScanTests {
    init() { setlocale(LC_ALL, "C.UTF-8") }

    static let tarball = Fixtures.path(grafana + "grafana-0.6.1.tgz")

    /// A project on disk (removed with `directory`) and what the scan needs of it.
    struct Project {
        let directory: TemporaryDirectory
        let layout: ProjectLayout
        let list: ChartList
        let lock: Lockfile

        /// What images.lock should say.
        func expected() throws -> ExpectedImages {
            try ImageCollector(layout: layout).expected(list, lock: lock, tarballsProven: true)
        }
    }

    /// A project (`project/` of a temporary directory) vendoring grafana 0.6.1 (the tarball in
    /// charts/external, proven by the caller), with `files` written into it (`../x` beside it);
    /// `chartValues` is appended to the chart's entry.
    private func project(_ files: [String: String], chartValues: String = "", images: Bool = true) throws -> Project {
        let directory = try TemporaryDirectory()
        let root = directory.file("project")
        let list = """
            repositories:
              - name: local
                url: repo
            charts:
              - name: grafana
                repository: local
                version: 0.6.1
            \(chartValues)
            """
        _ = try directory.write("project/chartsync.yaml", Array(list.utf8))
        try FileManager.default.createDirectory(atPath: root + "/charts/external", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.tarball, toPath: root + "/charts/external/grafana-0.6.1.tgz")
        for (path, text) in files { _ = try directory.write("project/" + path, Array(text.utf8)) }
        if images { _ = try directory.write("project/images.lock", Array("imagesVersion: 1\nimages: []\n".utf8)) }
        let (digest, size) = try FileSystem.sha256(ofFile: Self.tarball)
        let lock = Lockfile(chartList: digest, entries: [
            .init(name: "grafana", version: "0.6.1", constraint: "0.6.1", repository: "repo", url: "repo/grafana-0.6.1.tgz",
                  sha256: digest, size: size),
        ])
        let layout = ProjectLayout(chartList: root + "/chartsync.yaml")
        return Project(directory: directory, layout: layout, list: try ChartListReader.read(path: layout.chartList), lock: lock)
    }

    static let helmfile = """
        repositories:
          - name: grafana
            url: https://grafana.github.io/helm-charts
        releases:
          - name: monitoring
            chart: ./charts/external/grafana-0.6.1.tgz
            values:
              - values/datasource.yaml
          - name: dashboards
            chart: grafana/grafana
            version: 0.6.1
            values:
              - server:
                  image: grafana/grafana:5.0.0
          - name: pinned
            chart: oci://registry.example.invalid/charts/grafana:0.6.1
            set:
              - name: server.image
                value: grafana/grafana:5.1.0
          - name: gone
            chart: grafana/grafana
            installed: false
            values:
              - server:
                  image: grafana/grafana:9.9.9
          - name: other
            chart: grafana/loki
            values:
              - server:
                  image: grafana/grafana:8.8.8

        """

    private static let curl = "docker.io/appropriate/curl:latest"

    @Test func eachReleaseIsOneRenderAndHelmRendersTheSameImages() throws {
        let project = try self.project([
            "helmfile.yaml": Self.helmfile,
            "values/datasource.yaml": "server:\n  setDatasource:\n    enabled: true\n",
        ])
        let expected = try project.expected()
        let listed = expected.manifest.images.map(\.reference.description)
        #expect(listed == [Self.curl, "docker.io/grafana/grafana:4.6.3", "docker.io/grafana/grafana:5.0.0",
                           "docker.io/grafana/grafana:5.1.0"], "\(listed)")
        #expect(expected.manifest.images.allSatisfy { $0.charts == ["grafana"] })
        #expect(expected.releases.map { "\($0.name) \($0.file):\($0.line) \($0.chart)" }
                == ["monitoring helmfile.yaml:5 grafana", "dashboards helmfile.yaml:9 grafana", "pinned helmfile.yaml:15 grafana"])
        #expect(expected.warnings.filter { $0.file == "helmfile.yaml" }.isEmpty, "\(expected.warnings)")

        // Real Helm with the same values: the chart's defaults, and each release (its inline values
        // and its set: written as the values files they stand for).
        _ = try project.directory.write("helm/dashboards.yaml", Array("server:\n  image: grafana/grafana:5.0.0\n".utf8))
        _ = try project.directory.write("helm/pinned.yaml", Array("server:\n  image: grafana/grafana:5.1.0\n".utf8))
        let rendered = try Helm.renderedImages([
            Helm.ValuesCase(chart: Self.tarball, values: []),
            Helm.ValuesCase(chart: Self.tarball, values: [project.directory.file("project/values/datasource.yaml")]),
            Helm.ValuesCase(chart: Self.tarball, values: [project.directory.file("helm/dashboards.yaml")]),
            Helm.ValuesCase(chart: Self.tarball, values: [project.directory.file("helm/pinned.yaml")]),
        ])
        #expect(rendered.allSatisfy { $0.error == nil }, "\(rendered.map(\.error))")
        let helm = Set(try rendered.flatMap { $0.images ?? [] }.map { try ImageReference(parsing: $0).description })
        #expect(helm == Set(listed), "Helm \(helm.sorted()), chartsync \(listed)")
        #expect(try #require(rendered[1].images).contains("appropriate/curl:latest"), "the release's values switch the datasource job on")

        // The same files give the same images.lock, every time.
        let again = try project.expected()
        #expect(ImagesManifestCoding.text(again.manifest) == ImagesManifestCoding.text(expected.manifest))
    }

    @Test func chartListValuesComeFirstThenTheReleaseValuesThenItsSets() throws {
        let project = try self.project([
            "values/site.yaml": "server:\n  image: grafana/grafana:6.0.0\n",
            "helmfile.yaml": """
                releases:
                  - name: newer
                    chart: ./charts/external/grafana-0.6.1.tgz
                    values:
                      - server:
                          image: grafana/grafana:6.1.0
                  - name: with-job
                    chart: ./charts/external/grafana-0.6.1.tgz
                    set:
                      - name: server.setDatasource.enabled
                        value: "true"

                """,
        ], chartValues: "    values: [values/site.yaml]\n")
        let expected = try project.expected()
        // The chart's render (6.0.0 from the chart list), the first release's over it (6.1.0 wins),
        // the second's (6.0.0 and the job the set switches on); no render has the default 4.6.3.
        #expect(expected.manifest.images.map(\.reference.description)
                == [Self.curl, "docker.io/grafana/grafana:6.0.0", "docker.io/grafana/grafana:6.1.0"])
    }

    @Test func whatNeedsHelmfileToRenderIsReportedNotGuessed() throws {
        let project = try self.project([
            "values/site.yaml.gotmpl": "server:\n  image: {{ .Environment.Values.image }}\n",
            "../outside.yaml": "server:\n  image: grafana/grafana:7.0.0\n",
            "helmfile.yaml": """
                releases:
                  - name: site
                    chart: ./charts/external/grafana-0.6.1.tgz
                    values:
                      - values/site.yaml.gotmpl
                      - values/{{ .Environment.Name }}.yaml
                      - server:
                          image: grafana/grafana:{{ .Values.tag }}
                      - ../outside.yaml
                      - values/missing.yaml
                    secrets:
                      - secrets/site.yaml
                    set:
                      - name: server.image
                        file: image.txt
                      - name: list[0]
                        value: x
                    valuesTemplate:
                      - server: {image: "grafana/grafana:{{ .Values.tag }}"}
                  - name: templated
                    chart: "{{ .Values.chart }}"
                    values: [values/site.yaml.gotmpl]

                """,
        ])
        let expected = try project.expected()
        #expect(expected.manifest.images.map(\.reference.description) == ["docker.io/grafana/grafana:4.6.3"])
        #expect(expected.releases.isEmpty)
        let notes = expected.warnings.filter { $0.file == "helmfile.yaml" }.map { "\($0.line ?? 0): \($0.message)" }
        #expect(notes == [
            "5: release site: values file values/site.yaml.gotmpl is a template helmfile renders with its environment; not applied",
            "6: release site: values file values/{{ .Environment.Name }}.yaml is a template helmfile renders; not applied",
            "7: release site: inline values hold a template helmfile renders; not applied",
            "9: release site: values file ../outside.yaml is outside the project; not applied (a bundle cannot carry it)",
            "10: release site: values file values/missing.yaml is not there (or not a regular file); not applied",
            "12: release site: secrets are decrypted by helm-secrets at deploy time; not applied (images they switch on are not listed)",
            "14: release site: set server.image takes the content of image.txt (--set-file); not applied",
            "16: release site: set list[0] has an empty key or a list index, which chartsync does not follow; not applied",
            "18: release site: valuesTemplate is rendered by helmfile; not applied",
            "21: release templated: its chart is a template, so which chart its values are for is not known; they are not applied",
        ], "\(notes)")
        #expect(expected.warnings.first { $0.file == "helmfile.yaml" }?.chart == "grafana 0.6.1")
    }

    @Test func helmfileDirectoryReleasesAreReadToo() throws {
        let project = try self.project([
            "helmfile.d/00-monitoring.yaml": """
                releases:
                  - name: monitoring
                    chart: ../charts/external/grafana-0.6.1.tgz
                    values: [../values/datasource.yaml]

                """,
            "values/datasource.yaml": "server:\n  setDatasource:\n    enabled: true\n",
        ])
        let expected = try project.expected()
        #expect(expected.manifest.images.map(\.reference.description).contains(Self.curl))
        #expect(expected.releases.map(\.file) == ["helmfile.d/00-monitoring.yaml"])
    }

    @Test func theFilesABundleCarriesAreTheHelmfilesClosureWhenTheScanUsesIt() throws {
        let files = [
            "helmfile.yaml": """
                environments:
                  default:
                    values: [environments/default.yaml]
                helmfiles:
                  - releases/*.yaml
                releases:
                  - name: monitoring
                    chart: ./charts/external/grafana-0.6.1.tgz
                    values: [values/datasource.yaml]

                """,
            "releases/other.yaml": "releases:\n  - name: other\n    chart: ../charts/custom/site\n    values: [../values/other.yaml]\n",
            "environments/default.yaml": "a: 1\n",
            "values/datasource.yaml": "server:\n  setDatasource:\n    enabled: true\n",
            "values/other.yaml": "b: 1\n",
            "values/unused.yaml": "c: 1\n",
        ]
        let project = try self.project(files, chartValues: "    values: [values/unused.yaml]\n")
        #expect(ImageCollector(layout: project.layout).valuesFiles(project.list, lock: project.lock) == [
            "values/unused.yaml", "helmfile.yaml", "environments/default.yaml", "values/datasource.yaml",
            "releases/other.yaml", "values/other.yaml",
        ])
        // Without images.lock and an images: section the scan does not run: nothing of the helmfile is needed.
        let bare = try self.project(files, chartValues: "    values: [values/unused.yaml]\n", images: false)
        #expect(ImageCollector(layout: bare.layout).valuesFiles(bare.list, lock: bare.lock) == ["values/unused.yaml"])
    }
}
