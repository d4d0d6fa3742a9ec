import ChartSync
import ChartSyncTemplate
import ChartSyncTestSupport
import Foundation
import Testing

/// A fixture chart scanned with values files (given in order, as `helm template -f a -f b`), and
/// the images it then uses, per chart instance.
struct ValuesFixtureCase: Sendable, CustomTestStringConvertible {
    /// What the values do.
    let name: String
    /// The fixture, relative to ../shared/fixtures.
    let file: String
    /// The values files' text, in `-f` order.
    let values: [String]
    /// Per chart instance (path joined with " > "): its images, normalized and sorted.
    let charts: [(String, [String])]
    /// Subcharts that are off: "path > name: reason".
    var disabled: [String] = []

    var testDescription: String { name }
}

/// Values that switch images on and off in the fixture charts, each worked out from the chart's
/// values.yaml and templates.
let valuesFixtureCases: [ValuesFixtureCase] = [
    // grafana 0.6.1: the datasource job (appropriate/curl) is inside
    // {{- if .Values.server.setDatasource.enabled -}}, and the image map sits beside enabled: false.
    ValuesFixtureCase(
        name: "grafana: setDatasource.enabled switches the curl job on",
        file: grafana + "grafana-0.6.1.tgz",
        values: ["server:\n  setDatasource:\n    enabled: true\n"],
        charts: [("grafana", ["docker.io/appropriate/curl:latest", "docker.io/grafana/grafana:4.6.3"])]),
    // promtail 2.0.1: the busybox init container is inside {{- if .Values.initContainer.enabled }}.
    ValuesFixtureCase(
        name: "promtail: initContainer.enabled adds busybox",
        file: grafana + "promtail-2.0.1.tgz",
        values: ["initContainer:\n  enabled: true\n"],
        charts: [("promtail", ["docker.io/grafana/promtail:2.0.0", "docker.io/library/busybox"])]),
    // argo 0.1.0: installMinio is the minio dependency's condition.
    ValuesFixtureCase(
        name: "argo: installMinio false drops the minio subchart",
        file: argo + "argo-0.1.0.tgz",
        values: ["installMinio: false\n"],
        charts: [("argo", ["docker.io/argoproj/argoexec:v2.0.0-alpha3", "docker.io/argoproj/argoui:v2.0.0-alpha3",
                           "docker.io/argoproj/workflow-controller:v2.0.0-alpha3"])],
        disabled: ["argo > minio: condition installMinio is false"]),
    // argo 0.1.0 with two files: the second file's imagesTag wins over the first's; the minio
    // section reaches the subchart (defaultBucket.enabled switches the minio/mc bucket job on).
    ValuesFixtureCase(
        name: "argo: two files in -f order, a subchart section",
        file: argo + "argo-0.1.0.tgz",
        values: ["imagesTag: v9.9.9\nminio:\n  defaultBucket:\n    enabled: true\n", "imagesTag: v2.1.0\n"],
        charts: [("argo", ["docker.io/argoproj/argoexec:v2.1.0", "docker.io/argoproj/argoui:v2.1.0",
                           "docker.io/argoproj/workflow-controller:v2.1.0"]),
                 ("argo > minio", ["docker.io/minio/mc", "docker.io/minio/minio:RELEASE.2017-12-28T01-21-00Z"])]),
    // argo-ci 0.1.0: argo-ci's own `argo:` section sets installMinio: true; the user's section
    // under argo wins over it, two levels down.
    ValuesFixtureCase(
        name: "argo-ci: a nested subchart's condition from the user's section",
        file: argo + "argo-ci-0.1.0.tgz",
        values: ["argo:\n  installMinio: false\n"],
        charts: [("argo-ci", ["docker.io/argoproj/argoci:v1.0.0-alpha1"]),
                 ("argo-ci > argo", ["docker.io/argoproj/argoexec:v2.0.0-alpha3", "docker.io/argoproj/argoui:v2.0.0-alpha3",
                                     "docker.io/argoproj/workflow-controller:v2.0.0-alpha3"])],
        disabled: ["argo-ci > argo > minio: condition installMinio is false"]),
    // argo-workflows 0.1.0: the first file moves the controller to a site registry and pins a
    // tag; the second switches the server off and nulls the tag, which deletes it, so the
    // template's `| default .Chart.AppVersion` gives v3.0.2.
    ValuesFixtureCase(
        name: "argo-workflows: a site registry, a null tag, the server off",
        file: argo + "argo-workflows-0.1.0.tgz",
        values: ["controller:\n  image:\n    registry: registry.site.example\n    tag: v3.0.3\n",
                 "controller:\n  image:\n    tag: null\nserver:\n  enabled: false\n"],
        charts: [("argo-workflows", ["quay.io/argoproj/argoexec:v3.0.2", "registry.site.example/argoproj/workflow-controller:v3.0.2"])]),
    // nvidia-device-plugin 0.14.0: gfd.enabled is both subcharts' condition (nfd's second path).
    // The gfd DaemonSet is the parent's templates/gfd.yml, rendered inside
    // {{- with .Subcharts.gfd }} with the parent's fullimage helper on gfd's scope: gfd's values
    // and gfd's appVersion, "v" + 0.8.0. The parent's template renders it, so the parent lists it;
    // gfd's own values image (which no gfd template reads) is the one that line rendered, not
    // listed again as gpu-feature-discovery:0.8.0.
    ValuesFixtureCase(
        name: "nvidia-device-plugin: gfd.enabled switches both subcharts on",
        file: nvidia + "nvidia-device-plugin-0.14.0.tgz",
        values: ["gfd:\n  enabled: true\n"],
        charts: [("nvidia-device-plugin", ["nvcr.io/nvidia/gpu-feature-discovery:v0.8.0", "nvcr.io/nvidia/k8s-device-plugin:v0.14.0"]),
                 ("nvidia-device-plugin > nfd", ["registry.k8s.io/nfd/node-feature-discovery:v0.12.1"]),
                 ("nvidia-device-plugin > gfd", [])]),
    // gpu-feature-discovery 0.15.0: the user's nfd section overrides the subchart's image tag.
    ValuesFixtureCase(
        name: "gpu-feature-discovery: a subchart's image tag from the user's section",
        file: nvidia + "gpu-feature-discovery-0.15.0.tgz",
        values: ["nfd:\n  image:\n    tag: v0.16.0\n"],
        charts: [("gpu-feature-discovery", ["nvcr.io/nvidia/k8s-device-plugin:v0.15.0"]),
                 ("gpu-feature-discovery > nfd", ["registry.k8s.io/nfd/node-feature-discovery:v0.16.0"])]),
]

@Suite struct ImageScannerValuesTests {
    init() { setlocale(LC_ALL, "C.UTF-8") }

    /// The case's values files written to `directory` (v0.yaml, v1.yaml...), in order.
    private func write(_ c: ValuesFixtureCase, into directory: TemporaryDirectory) throws -> [String] {
        try c.values.enumerated().map { index, text in try directory.write("v\(index).yaml", Array(text.utf8)) }
    }

    private func scan(_ c: ValuesFixtureCase, files: [String]) throws -> ImageScan {
        let scanner = ImageScanner()
        let values = try scanner.userValues(try files.map { (Array(try Data(contentsOf: URL(fileURLWithPath: $0))), $0) })
        return try scanner.scan(tarball: Fixtures.path(c.file), values: values)
    }

    @Test(arguments: valuesFixtureCases)
    func fixtureChartWithValues(_ c: ValuesFixtureCase) throws {
        let directory = try TemporaryDirectory()
        let result = try scan(c, files: try write(c, into: directory))
        let charts = result.charts.map { ($0.path.joined(separator: " > "), $0.images.map(\.reference.description)) }
        #expect(charts.map(\.0) == c.charts.map(\.0))
        for (name, images) in c.charts {
            #expect(charts.first(where: { $0.0 == name })?.1 == images, "\(name)")
        }
        #expect(result.disabledSubcharts.map { "\($0.path.joined(separator: " > ")): \($0.reason)" } == c.disabled)
    }

    @Test func helmRendersTheSameImagesWithTheSameValues() throws {
        // Real Helm 4 renders each fixture with the same values files (its own YAML reader,
        // merged as -f merges them): the images chartsync took from template lines are exactly
        // Helm's, and every image Helm rendered is listed.
        let directory = try TemporaryDirectory()
        var cases: [Helm.ValuesCase] = []
        var files: [[String]] = []
        for (index, c) in valuesFixtureCases.enumerated() {
            let sub = directory.file("case\(index)")
            try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
            let paths = try c.values.enumerated().map { n, text in
                let path = sub + "/v\(n).yaml"
                try Data(text.utf8).write(to: URL(fileURLWithPath: path))
                return path
            }
            files.append(paths)
            cases.append(Helm.ValuesCase(chart: Fixtures.path(c.file), values: paths))
        }
        let rendered = try Helm.renderedImages(cases)
        try #require(rendered.count == cases.count)
        for (index, c) in valuesFixtureCases.enumerated() {
            let helm = rendered[index]
            #expect(helm.error == nil, "\(c.name): \(helm.error ?? "")")
            let result = try scan(c, files: files[index])
            try expectHelmAgrees(result, helm.images ?? [])
            // And the images differ from the defaults' where the values switched something.
            let defaults = try ImageScanner().scan(tarball: Fixtures.path(c.file))
            #expect(defaults.images != result.images, "\(c.name)")
        }
    }

    @Test func userValuesAreMergedInOrderAndNamed() throws {
        let scanner = ImageScanner()
        let values = try #require(try scanner.userValues([
            (Array("a:\n  x: 1\n  y: 1\nb: 1\n".utf8), "values/one.yaml"),
            (Array("".utf8), "values/empty.yaml"),
            (Array("a:\n  y: 2\n".utf8), "values/two.yaml"),
        ]))
        #expect(values.at("a.x")?.text == "1")
        #expect(values.at("a.y")?.text == "2")
        #expect(values.at("a.y")?.file == "values/two.yaml")
        #expect(values.at("b")?.file == "values/one.yaml")
        #expect(try scanner.userValues([]) == nil)
    }

    @Test func valuesThatAreNotAMappingAreRefusedNamingTheFile() throws {
        let scanner = ImageScanner()
        #expect {
            _ = try scanner.userValues([(Array("- a\n- b\n".utf8), "values/list.yaml")])
        } throws: { error in
            (error as? ImageScanError)?.description == "values/list.yaml: line 1: the values are not a mapping (Helm refuses the file)"
        }
        #expect {
            _ = try scanner.userValues([(Array("a: [\n".utf8), "values/broken.yaml")])
        } throws: { error in
            (error as? ImageScanError)?.description.hasPrefix("values/broken.yaml:") == true
        }
    }

    @Test func grafanaSourcesNameTheValuesFile() throws {
        // The curl image is found on the job's template line; setDatasource's `enabled` came from
        // the user's file.
        let directory = try TemporaryDirectory()
        let c = valuesFixtureCases[0]
        let result = try scan(c, files: try write(c, into: directory))
        let curl = try #require(result.charts.first?.images.first { $0.reference.repository == "appropriate/curl" })
        #expect(curl.sources.contains { $0.kind == .template })
        #expect(result.charts.first?.unused.isEmpty == true)
    }

    @Test func anImageRenderedInASubchartsScopeNamesTheParentTemplate() throws {
        // nvidia-device-plugin's templates/gfd.yml renders gfd's image through
        // {{ with .Subcharts.gfd }}: the line, and gfd's values it read, are the source.
        let directory = try TemporaryDirectory()
        let c = try #require(valuesFixtureCases.first { $0.file.hasSuffix("nvidia-device-plugin-0.14.0.tgz") })
        let result = try scan(c, files: try write(c, into: directory))
        let gfd = try #require(result.charts.first?.images.first { $0.reference.repository == "nvidia/gpu-feature-discovery" })
        #expect(gfd.reference.tag == "v0.8.0")
        let source = try #require(gfd.sources.first)
        #expect(source.kind == .template && source.file.hasSuffix("nvidia-device-plugin/templates/gfd.yml"), "\(source)")
        #expect(source.reads.contains("gfd.image.repository"), "\(source.reads)")
    }
}
