import ChartSync
import ChartSyncCore
import ChartSyncTestSupport
import Foundation
import Testing

/// What a real chart tarball uses with default values, worked out by reading its values.yaml and
/// templates (unpacked with `tar -xzf` into /tmp) rather than by running the scanner.
struct ExpectedChartImages: Sendable, CustomTestStringConvertible {
    /// The fixture, relative to ../shared/fixtures.
    let file: String
    /// Per chart instance (path joined with " > "): its images, normalized and sorted.
    let charts: [(String, [String])]
    /// Images named but unused with default values, per chart instance.
    var unused: [(String, [String])] = []
    /// Subcharts that are off: "path > name: reason".
    var disabled: [String] = []
    /// Warnings (descriptions).
    var warnings: [String] = []

    var testDescription: String { file }
}

let argo = "repo-argo-helm/"
let nvidia = "repo-nvidia-k8s-device-plugin/stable/"
let grafana = "repo-grafana-helm-charts/packages/"

/// The expected images of the 23 fixture tarballs, with the reasoning.
let expectedFixtureImages: [ExpectedChartImages] = [
    // argo 0.1.0 (apiVersion v1, dependencies in requirements.yaml): the three deployments build
    // "{{ .Values.imagesNamespace }}/{{ .Values.<x>Image }}:{{ .Values.imagesTag }}" (controller, ui,
    // and executorImage in the controller's ConfigMap) = argoproj/<x>:v2.0.0-alpha3. The values
    // keys controllerImage/uiImage/executorImage are bare names that only these lines complete.
    // minio 0.4.3 (charts/minio-0.4.3.tgz, condition installMinio: true): mode "standalone" selects
    // minio_deployment.yaml: "{{ .Values.image }}:{{ .Values.imageTag }}"; the statefulset (mode
    // distributed) and the bucket pod's literal minio/mc (defaultBucket.enabled: false) are off.
    ExpectedChartImages(
        file: argo + "argo-0.1.0.tgz",
        charts: [
            ("argo", ["docker.io/argoproj/argoexec:v2.0.0-alpha3", "docker.io/argoproj/argoui:v2.0.0-alpha3",
                      "docker.io/argoproj/workflow-controller:v2.0.0-alpha3"]),
            ("argo > minio", ["docker.io/minio/minio:RELEASE.2017-12-28T01-21-00Z"]),
        ],
        unused: [("argo > minio", ["docker.io/minio/mc"])]),
    // argo-cd 0.1.0: five image maps (repository + tag, no registry) read by the deployments as
    // "{{ ...repository }}:{{ ...tag }}"; argocd is used three times, dex's init container uses argocd too.
    ExpectedChartImages(
        file: argo + "argo-cd-0.1.0.tgz",
        charts: [("argo-cd", ["docker.io/argoproj/argocd-ui:v0.11.0", "docker.io/argoproj/argocd:v0.11.0", "quay.io/dexidp/dex:v2.12.0"])]),
    // argo-ci 0.1.0: "{{ .Values.imageNamespace }}/{{ .Values.ciImage }}:{{ .Values.imageTag }}" =
    // argoproj/argoci:v1.0.0-alpha1; the argo subchart (no condition) is charts/argo-0.1.0.tgz, which
    // itself holds charts/minio-0.4.3.tgz (two levels of archives); argo-ci's `argo:` section
    // overrides imagesNamespace/imagesTag with the same values and keeps installMinio: true.
    ExpectedChartImages(
        file: argo + "argo-ci-0.1.0.tgz",
        charts: [
            ("argo-ci", ["docker.io/argoproj/argoci:v1.0.0-alpha1"]),
            ("argo-ci > argo", ["docker.io/argoproj/argoexec:v2.0.0-alpha3", "docker.io/argoproj/argoui:v2.0.0-alpha3",
                                "docker.io/argoproj/workflow-controller:v2.0.0-alpha3"]),
            ("argo-ci > argo > minio", ["docker.io/minio/minio:RELEASE.2017-12-28T01-21-00Z"]),
        ],
        unused: [("argo-ci > argo > minio", ["docker.io/minio/mc"])]),
    // argo-events 0.2.0: "{{ .Values.registry }}/{{ .Values.controller.image }}:{{ .Values.controller.tag }}"
    // = argoproj/sensor-controller:latest; the CRD job's literal lachlanevenson/k8s-kubectl has no tag.
    ExpectedChartImages(
        file: argo + "argo-events-0.2.0.tgz",
        charts: [("argo-events", ["docker.io/argoproj/sensor-controller:latest", "docker.io/lachlanevenson/k8s-kubectl"])]),
    // argo-lite 0.1.0: image.repository argoproj/argo-lite, tag latest.
    ExpectedChartImages(
        file: argo + "argo-lite-0.1.0.tgz",
        charts: [("argo-lite", ["docker.io/argoproj/argo-lite:latest"])]),
    // argo-rollouts 0.1.0: controller.image argoproj/argo-rollouts:v0.7.0 (the CRDs' `image:` keys are schema).
    ExpectedChartImages(
        file: argo + "argo-rollouts-0.1.0.tgz",
        charts: [("argo-rollouts", ["docker.io/argoproj/argo-rollouts:v0.7.0"])]),
    // argo-workflows 0.1.0: registry quay.io, empty tags default to appVersion v3.0.2 in the
    // templates (`| default .Chart.AppVersion`); the executor image is only an argument
    // ("--executor-image", "{{ ...executor.image... }}"), so it comes from the values map.
    ExpectedChartImages(
        file: argo + "argo-workflows-0.1.0.tgz",
        charts: [("argo-workflows", ["quay.io/argoproj/argocli:v3.0.2", "quay.io/argoproj/argoexec:v3.0.2",
                                     "quay.io/argoproj/workflow-controller:v3.0.2"])]),
    // argocd-applicationset 0.1.0: repository holds the registry; tag "" → appVersion v0.1.0-prerelease.
    ExpectedChartImages(
        file: argo + "argocd-applicationset-0.1.0.tgz",
        charts: [("argocd-applicationset", ["quay.io/argocdapplicationset/argocd-applicationset:v0.1.0-prerelease"])]),
    // argocd-notifications 1.0.0: argoprojlabs/argocd-notifications:v0.7.0.
    ExpectedChartImages(
        file: argo + "argocd-notifications-1.0.0.tgz",
        charts: [("argocd-notifications", ["docker.io/argoprojlabs/argocd-notifications:v0.7.0"])]),

    // nvidia-device-plugin 0.6.0 and 0.7.0-rc.1: no image values; the daemonset's literal
    // "nvidia/k8s-device-plugin:v{{ .Chart.AppVersion }}".
    ExpectedChartImages(
        file: nvidia + "nvidia-device-plugin-0.6.0.tgz",
        charts: [("nvidia-device-plugin", ["docker.io/nvidia/k8s-device-plugin:v0.6.0"])]),
    ExpectedChartImages(
        file: nvidia + "nvidia-device-plugin-0.7.0-rc.1.tgz",
        charts: [("nvidia-device-plugin", ["docker.io/nvidia/k8s-device-plugin:v0.7.0-rc.1"])]),
    // 0.7.0 on: image: {{ include "nvidia-device-plugin.fullimage" . }}, whose helper is
    // `$tag := printf "v%s" .Chart.AppVersion` then repository:(tag | default $tag). The tag is
    // v-prefixed, so the plain values convention (tag "" → appVersion 0.7.0) would be wrong here.
    ExpectedChartImages(
        file: nvidia + "nvidia-device-plugin-0.7.0.tgz",
        charts: [("nvidia-device-plugin", ["docker.io/nvidia/k8s-device-plugin:v0.7.0"])]),
    ExpectedChartImages(
        file: nvidia + "nvidia-device-plugin-0.12.0-rc.1.tgz",
        charts: [("nvidia-device-plugin", ["nvcr.io/nvidia/k8s-device-plugin:v0.12.0-rc.1"])]),
    // 0.14.0: subcharts nfd (node-feature-discovery, condition nfd.enabled,gfd.enabled: nfd has no
    // `enabled`, gfd.enabled is false) and gfd (gpu-feature-discovery, condition gfd.enabled) are off;
    // the gfd.yml DaemonSet is inside {{- if .Values.gfd.enabled }}.
    ExpectedChartImages(
        file: nvidia + "nvidia-device-plugin-0.14.0.tgz",
        charts: [("nvidia-device-plugin", ["nvcr.io/nvidia/k8s-device-plugin:v0.14.0"])],
        disabled: ["nvidia-device-plugin > nfd: condition gfd.enabled is false",
                   "nvidia-device-plugin > gfd: condition gfd.enabled is false"]),
    ExpectedChartImages(
        file: nvidia + "nvidia-device-plugin-0.20.0.tgz",
        charts: [("nvidia-device-plugin", ["nvcr.io/nvidia/k8s-device-plugin:v0.20.0"])],
        disabled: ["nvidia-device-plugin > nfd: condition gfd.enabled is false"]),
    // gpu-feature-discovery: gfd.enabled is true, so the nfd subchart (a charts/ directory) is on;
    // its templates use "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
    // with the tag unset: registry.k8s.io/nfd/node-feature-discovery:<nfd appVersion>.
    ExpectedChartImages(
        file: nvidia + "gpu-feature-discovery-0.15.0-rc.1.tgz",
        charts: [("gpu-feature-discovery", ["nvcr.io/nvidia/k8s-device-plugin:v0.15.0-rc.1"]),
                 ("gpu-feature-discovery > nfd", ["registry.k8s.io/nfd/node-feature-discovery:v0.13.0"])]),
    ExpectedChartImages(
        file: nvidia + "gpu-feature-discovery-0.15.0.tgz",
        charts: [("gpu-feature-discovery", ["nvcr.io/nvidia/k8s-device-plugin:v0.15.0"]),
                 ("gpu-feature-discovery > nfd", ["registry.k8s.io/nfd/node-feature-discovery:v0.15.3"])]),
    ExpectedChartImages(
        file: nvidia + "gpu-feature-discovery-0.20.0.tgz",
        charts: [("gpu-feature-discovery", ["nvcr.io/nvidia/k8s-device-plugin:v0.20.0"]),
                 ("gpu-feature-discovery > nfd", ["registry.k8s.io/nfd/node-feature-discovery:v0.19.0"])]),

    // fluent-bit 2.0.1, loki 2.1.0: image maps with tags.
    ExpectedChartImages(
        file: grafana + "fluent-bit-2.0.1.tgz",
        charts: [("fluent-bit", ["docker.io/grafana/fluent-bit-plugin-loki:1.6.0-amd64"])]),
    ExpectedChartImages(
        file: grafana + "loki-2.1.0.tgz",
        charts: [("loki", ["docker.io/grafana/loki:2.0.0"])]),
    // promtail 2.0.1: grafana/promtail:2.0.0; the literal busybox init container is inside
    // {{- if .Values.initContainer.enabled }} (false).
    ExpectedChartImages(
        file: grafana + "promtail-2.0.1.tgz",
        charts: [("promtail", ["docker.io/grafana/promtail:2.0.0"])],
        unused: [("promtail", ["docker.io/library/busybox"])]),
    // grafana 0.6.1 and 0.6: server.image "grafana/grafana:4.6.3"; setDatasource.image
    // appropriate/curl:latest sits beside enabled: false and its job is inside
    // {{- if .Values.server.setDatasource.enabled -}}; dashboardImports.image is commented out and
    // its job is off too.
    ExpectedChartImages(
        file: grafana + "grafana-0.6.1.tgz",
        charts: [("grafana", ["docker.io/grafana/grafana:4.6.3"])],
        unused: [("grafana", ["docker.io/appropriate/curl:latest"])]),
    ExpectedChartImages(
        file: grafana + "grafana-0.6.tgz",
        charts: [("grafana", ["docker.io/grafana/grafana:4.6.3"])],
        unused: [("grafana", ["docker.io/appropriate/curl:latest"])]),
]

@Suite struct ImageScannerFixtureTests {
    init() { setlocale(LC_ALL, "C.UTF-8") }

    @Test func everyFixtureTarballHasExpectations() throws {
        let found = try runCommand(["sh", "-c", "cd \"$1\" && find repo-* -name '*.tgz' | sort", "sh", Fixtures.root])
            .split(separator: "\n").map(String.init)
        #expect(found == expectedFixtureImages.map(\.file).sorted())
    }

    @Test(arguments: expectedFixtureImages)
    func realChartImages(_ expected: ExpectedChartImages) throws {
        let scan = try ImageScanner().scan(tarball: Fixtures.path(expected.file))
        let charts = scan.charts.map { ($0.path.joined(separator: " > "), $0.images.map(\.reference.description)) }
        #expect(charts.map(\.0) == expected.charts.map(\.0))
        for (name, images) in expected.charts {
            #expect(charts.first(where: { $0.0 == name })?.1 == images, "\(name)")
        }
        let unused = scan.charts.filter { !$0.unused.isEmpty }.map { ($0.path.joined(separator: " > "), $0.unused.map(\.reference.description)) }
        #expect(unused.map(\.0) == expected.unused.map(\.0))
        for (name, images) in expected.unused {
            #expect(unused.first(where: { $0.0 == name })?.1 == images, "\(name)")
        }
        #expect(scan.disabledSubcharts.map { "\($0.path.joined(separator: " > ")): \($0.reason)" } == expected.disabled)
        #expect(scan.warnings.map(\.description) == expected.warnings)
        // Every image says where it came from.
        for chart in scan.charts {
            for image in chart.images { #expect(!image.sources.isEmpty) }
        }
    }

    @Test func helmRendersWhatTheTemplatesGave() throws {
        // Real Helm 4 renders every fixture with its default values; the `image:` values of its
        // manifests are exactly the images the scanner took from template lines (argo-workflows'
        // executor image is a command-line argument, found in its values only).
        let paths = expectedFixtureImages.map { Fixtures.path($0.file) }
        let rendered = try Helm.renderedImages(paths)
        try #require(rendered.count == paths.count)
        for (path, helm) in zip(paths, rendered) {
            #expect(helm.error == nil, "\(path): \(helm.error ?? "")")
            try expectHelmAgrees(try ImageScanner().scan(tarball: path), helm.images ?? [])
        }
    }

    @Test func sourcesNameTheValuesKeyOrTemplateLine() throws {
        // nvidia-device-plugin 0.14.0: three daemonset lines render the helper, but two are inside
        // {{- if eq $hasConfigMap "true" }}, and the hasConfigMap helper gives false with the default
        // config (name "", map {}); the values map `image` is read by the line (not listed on its own).
        let scan = try ImageScanner().scan(tarball: Fixtures.path(nvidia + "nvidia-device-plugin-0.14.0.tgz"))
        let image = try #require(scan.charts.first?.images.first)
        #expect(image.sources.map(\.kind) == [.template])
        #expect(image.sources.map(\.description) == ["nvidia-device-plugin/templates/daemonset.yml:135"])
        #expect(scan.charts.first?.unused.isEmpty == true)
        #expect(image.sources[0].reads == ["image.repository", "image.tag"])

        // argo-workflows: the executor image comes from its values map, tag from appVersion.
        let workflows = try ImageScanner().scan(tarball: Fixtures.path(argo + "argo-workflows-0.1.0.tgz"))
        let executor = try #require(workflows.charts.first?.images.first { $0.reference.repository == "argoproj/argoexec" })
        #expect(executor.sources.map(\.description) == ["argo-workflows/values.yaml:149 executor.image (tag from appVersion)"])

        // argo-ci: the nested archives are named with `!`.
        let ci = try ImageScanner().scan(tarball: Fixtures.path(argo + "argo-ci-0.1.0.tgz"))
        let minio = try #require(ci.charts.last?.images.first)
        #expect(minio.sources.map(\.file) == ["charts/argo-0.1.0.tgz!charts/minio-0.4.3.tgz!minio/templates/minio_deployment.yaml"])
    }
}

/// Checks a scan against the image values Helm rendered: the images the scanner took from template
/// lines are exactly Helm's (normalized), and every image Helm rendered is listed.
func expectHelmAgrees(_ scan: ImageScan, _ helmImages: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
    let helm = Set(try helmImages.map { try ImageReference(parsing: $0).description })
    let fromTemplates = Set(scan.charts.flatMap(\.images).filter { $0.sources.contains { $0.kind == .template } }.map(\.reference.description))
    #expect(fromTemplates == helm, "\(scan.tarball)", sourceLocation: sourceLocation)
    #expect(helm.isSubset(of: Set(scan.images.map(\.description))), "\(scan.tarball)", sourceLocation: sourceLocation)
}
