@testable import ChartSync
import ChartSyncArchive
import ChartSyncCore
@testable import ChartSyncTemplate
import ChartSyncTestSupport
import Foundation
import Testing

/// Small charts of our own, one per convention, written as files and packed with `tar -czf` at run time.
struct TestCharts {
    let temp: TemporaryDirectory

    init() throws { temp = try TemporaryDirectory(prefix: "chartsync-images") }

    /// Writes `files` (paths below the chart directory → text) under `<temp>/<directory>/`.
    func write(_ directory: String, _ files: [String: String]) throws {
        for (path, text) in files { try temp.write(directory + "/" + path, Array(text.utf8)) }
    }

    /// Packs `<temp>/<directory>` (its last component becomes the top directory) into `<temp>/<name>`.
    @discardableResult
    func pack(_ directory: String, as name: String) throws -> String {
        let full = temp.file(directory)
        let parent = (full as NSString).deletingLastPathComponent
        let last = (full as NSString).lastPathComponent
        try runCommand(["tar", "-czf", temp.file(name), "-C", parent, last])
        return temp.file(name)
    }

    /// Writes and packs a chart in one go.
    func chart(_ name: String, _ files: [String: String]) throws -> String {
        try write("src-\(name)/\(name)", files)
        return try pack("src-\(name)/\(name)", as: "\(name).tgz")
    }

    /// Copies a packed file into a directory of the tree (for `charts/x.tgz` inside a chart).
    func copy(_ packed: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (temp.file(path) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: packed, toPath: temp.file(path))
    }
}

/// `Chart.yaml` text.
func chartYAML(_ name: String, version: String = "1.0.0", appVersion: String? = nil, extra: String = "") -> String {
    "apiVersion: v2\nname: \(name)\nversion: \(version)\n" + (appVersion.map { "appVersion: \"\($0)\"\n" } ?? "") + extra
}

/// The images of each chart of a scan, by instance path.
func imagesByChart(_ scan: ImageScan) -> [String: [String]] {
    var out: [String: [String]] = [:]
    for chart in scan.charts { out[chart.path.joined(separator: " > ")] = chart.images.map(\.reference.description) }
    return out
}

let digestA = "sha256:" + String(repeating: "a", count: 64)

@Suite struct ImageScannerConventionTests {
    init() { setlocale(LC_ALL, "C.UTF-8") }

    @Test func stringImageInValues() throws {
        let charts = try TestCharts()
        let tarball = try charts.chart("plain", [
            "Chart.yaml": chartYAML("plain"),
            "values.yaml": "image: busybox:1.36\nsidecar:\n  proxyImage: \"docker.io/envoyproxy/envoy:v1.29.1\"\n",
        ])
        let scan = try ImageScanner().scan(tarball: tarball)
        #expect(scan.images.map(\.description) == ["docker.io/envoyproxy/envoy:v1.29.1", "docker.io/library/busybox:1.36"])
        let sources = scan.charts[0].images.flatMap(\.sources).map(\.description)
        #expect(sources.sorted() == ["plain/values.yaml:1 image", "plain/values.yaml:3 sidecar.proxyImage"])
        #expect(scan.warnings.isEmpty)
    }

    @Test func imageMapWithRegistryRepositoryTagDigest() throws {
        let charts = try TestCharts()
        let tarball = try charts.chart("maps", [
            "Chart.yaml": chartYAML("maps", appVersion: "9.9.9"),
            "values.yaml": """
            image:
              registry: ghcr.io
              repository: team/app
              tag: "2.1"
              digest: \(digestA)
            worker:
              image:
                name: quay.io/team/worker
                tag: v3
            pinned:
              image:
                repository: team/pinned
                digest: \(digestA)

            """,
        ])
        let scan = try ImageScanner().scan(tarball: tarball)
        #expect(scan.images.map(\.description) == [
            "docker.io/team/pinned@\(digestA)", "ghcr.io/team/app:2.1@\(digestA)", "quay.io/team/worker:v3",
        ])
        #expect(scan.warnings.isEmpty)
    }

    @Test func globalImageRegistryOverridesTheRegistryAndReachesSubcharts() throws {
        let charts = try TestCharts()
        try charts.write("parent/charts/db", [
            "Chart.yaml": chartYAML("db", appVersion: "16.2.0"),
            "values.yaml": "image:\n  registry: docker.io\n  repository: bitnami/postgresql\n  tag: \"\"\n",
        ])
        try charts.write("parent", [
            "Chart.yaml": chartYAML("parent", extra: "dependencies:\n- name: db\n  version: 1.0.0\n"),
            "values.yaml": "global:\n  imageRegistry: mirror.example.com:5000\nimage:\n  registry: docker.io\n  repository: bitnami/nginx\n  tag: 1.25.4\n",
        ])
        let scan = try ImageScanner().scan(tarball: try charts.pack("parent", as: "parent.tgz"))
        #expect(imagesByChart(scan) == [
            "parent": ["mirror.example.com:5000/bitnami/nginx:1.25.4"],
            "parent > db": ["mirror.example.com:5000/bitnami/postgresql:16.2.0"],
        ])
        let note = scan.charts[1].images[0].sources[0].note
        #expect(note == "registry from global.imageRegistry, tag from appVersion")
    }

    @Test func emptyTagIsTheAppVersionAndWithoutOneAWarning() throws {
        let charts = try TestCharts()
        let withApp = try charts.chart("app", [
            "Chart.yaml": chartYAML("app", appVersion: "3.4.5"),
            "values.yaml": "image:\n  repository: team/app\n  tag: \"\"\nhelper:\n  image:\n    repository: team/helper\n",
        ])
        let scan = try ImageScanner().scan(tarball: withApp)
        #expect(scan.images.map(\.description) == ["docker.io/team/app:3.4.5", "docker.io/team/helper:3.4.5"])
        #expect(scan.charts[0].images[0].sources.map(\.note) == ["tag from appVersion"])

        let without = try charts.chart("noapp", [
            "Chart.yaml": chartYAML("noapp"),
            "values.yaml": "image:\n  repository: team/app\n  tag: \"\"\n",
        ])
        let bare = try ImageScanner().scan(tarball: without)
        #expect(bare.images.isEmpty)
        #expect(bare.warnings.map(\.description) == [
            "noapp 1.0.0: noapp/values.yaml:1: image: has no tag, and the chart has no appVersion to default it to; the image is not listed",
        ])
    }

    @Test func numericTagsAreWhatHelmRenders() throws {
        let charts = try TestCharts()
        // Unquoted numbers: Helm renders 1.10 as 1.1 and 2.50 as 2.5, so that is what the cluster
        // pulls and what is listed; 20230101 renders as 2.0230101e+07, which is no tag at all.
        let tarball = try charts.chart("numbers", [
            "Chart.yaml": chartYAML("numbers"),
            "values.yaml": "image:\n  repository: team/app\n  tag: 1.10\nother:\n  image:\n    repository: team/other\n    tag: 20230101\njobTag: 2.50\n",
            "templates/job.yaml": "spec:\n  containers:\n  - image: \"team/job:{{ .Values.jobTag }}\"\n",
        ])
        let scan = try ImageScanner().scan(tarball: tarball)
        #expect(scan.images.map(\.description) == ["docker.io/team/app:1.1", "docker.io/team/job:2.5"])
        // Not silently: each unquoted number Helm renders otherwise is a warning saying how.
        let warnings = scan.warnings.map(\.description)
        #expect(warnings.contains("numbers 1.0.0: numbers/templates/job.yaml:3: jobTag: the unquoted number 2.50 renders as 2.5 (Helm reads it as a number), so the chart pulls that and it is what is listed; the chart should quote it"), "\(warnings)")
        #expect(warnings.contains("numbers 1.0.0: numbers/values.yaml:3: image.tag: the unquoted number 1.10 renders as 1.1 (Helm reads it as a number), so the chart pulls that and it is what is listed; the chart should quote it"), "\(warnings)")
        #expect(warnings.contains("numbers 1.0.0: numbers/values.yaml:5: other.image: \"team/other:2.0230101e+07\" is not a valid image reference: the tag \"2.0230101e+07\" is not valid (letters, digits, _ . -, at most 128, not starting with . or -)"), "\(warnings)")
        #expect(warnings.count == 3)
        // What Helm itself renders.
        #expect(try Helm.renderedImages([tarball]).first?.images == ["team/job:2.5"])
    }

    @Test(arguments: [
        // Checked against Helm 4's rendering of unquoted values.
        ("1.10", "1.1"), ("20230101", "2.0230101e+07"), ("2.50", "2.5"), ("1.0", "1"), ("7", "7"), ("0x1F", "31"),
        ("1e3", "1000"), ("123456", "123456"), ("1234567", "1.234567e+06"), ("0.0001", "0.0001"), ("0.00001", "1e-05"),
        ("-2.50", "-2.5"), ("0755", "493"), ("1_000", "1000"),
    ])
    func helmRendersPlainNumbersAsGoFloats(_ written: String, _ rendered: String) {
        #expect(ValueNode.helmRendering(ofNumber: written) == rendered)
    }

    @Test func parentValuesOverrideASubchartAndAliasesNameTheSection() throws {
        let charts = try TestCharts()
        let redis = try charts.chart("redis", [
            "Chart.yaml": chartYAML("redis", version: "18.0.0", appVersion: "7.2.0"),
            "values.yaml": "image:\n  repository: bitnami/redis\n  tag: 7.0.0\n",
            "templates/statefulset.yaml": "spec:\n  template:\n    spec:\n      containers:\n      - name: redis\n        image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n",
        ])
        try charts.copy(redis, to: "app/charts/redis-18.0.0.tgz")
        try charts.write("app", [
            "Chart.yaml": chartYAML("app", extra: """
            dependencies:
            - name: redis
              version: 18.0.0
            - name: redis
              alias: cache
              version: 18.0.0

            """),
            "values.yaml": "redis:\n  image:\n    tag: \"7.2.4\"\ncache:\n  image:\n    repository: bitnami/valkey\n",
        ])
        let app = try charts.pack("app", as: "app.tgz")
        let scan = try ImageScanner().scan(tarball: app)
        try expectHelmAgrees(scan, try Helm.renderedImages([app])[0].images ?? [])
        #expect(imagesByChart(scan) == [
            "app": [],
            "app > redis": ["docker.io/bitnami/redis:7.2.4"],
            "app > cache": ["docker.io/bitnami/valkey:7.0.0"],
        ])
        // The template line rendered with the parent's override; its source is the subchart's template.
        #expect(scan.charts[1].images[0].sources.map(\.description) == ["app/charts/redis-18.0.0.tgz!redis/templates/statefulset.yaml:6"])
    }

    @Test func conditionAndTagsTurnSubchartsOff() throws {
        let charts = try TestCharts()
        try charts.write("shop/charts/redis", [
            "Chart.yaml": chartYAML("redis", appVersion: "7.2.0"),
            "values.yaml": "enabled: true\nimage:\n  repository: bitnami/redis\n",
        ])
        try charts.write("shop/charts/metrics", [
            "Chart.yaml": chartYAML("metrics", appVersion: "0.15.0"),
            "values.yaml": "image:\n  repository: prom/statsd-exporter\n",
        ])
        try charts.write("shop/charts/search", [
            "Chart.yaml": chartYAML("search", appVersion: "8.12.0"),
            "values.yaml": "image:\n  repository: elastic/elasticsearch\n",
        ])
        try charts.write("shop", [
            "Chart.yaml": chartYAML("shop", extra: """
            dependencies:
            - name: redis
              version: 1.0.0
              condition: cache.enabled,redis.enabled
            - name: metrics
              version: 1.0.0
              tags: [observability]
            - name: search
              version: 1.0.0
              condition: search.enabled
              tags: [observability]

            """),
            // redis: cache.enabled is missing, redis.enabled comes from the subchart's own values but
            // the parent's section sets it false. metrics: its only tag is false. search: the tag is
            // false but the condition is true and wins.
            "values.yaml": "redis:\n  enabled: false\ntags:\n  observability: false\nsearch:\n  enabled: true\n",
        ])
        let scan = try ImageScanner().scan(tarball: try charts.pack("shop", as: "shop.tgz"))
        #expect(imagesByChart(scan) == ["shop": [], "shop > search": ["docker.io/elastic/elasticsearch:8.12.0"]])
        #expect(scan.disabledSubcharts.map { "\($0.path.joined(separator: " > ")) (\($0.chart) \($0.version)): \($0.reason)" } == [
            "shop > redis (redis 1.0.0): condition redis.enabled is false",
            "shop > metrics (metrics 1.0.0): tag observability is false",
        ])
    }

    @Test func enabledFalseBesideAnImageMakesItUnused() throws {
        let charts = try TestCharts()
        let tarball = try charts.chart("exporter", [
            "Chart.yaml": chartYAML("exporter", appVersion: "1.0"),
            "values.yaml": """
            image:
              repository: team/server
              tag: "1.0"
            metrics:
              enabled: false
              image:
                repository: prom/exporter
                tag: v0.15.0
            backup:
              enabled: false
              job:
                image: "team/backup:2"

            """,
        ])
        let scan = try ImageScanner().scan(tarball: tarball)
        #expect(scan.images.map(\.description) == ["docker.io/team/server:1.0"])
        let unused = scan.charts[0].unused
        #expect(unused.map(\.reference.description) == ["docker.io/prom/exporter:v0.15.0", "docker.io/team/backup:2"])
        #expect(unused.flatMap(\.sources).map(\.note) == ["metrics.enabled is false", "backup.enabled is false"])
    }

    @Test func nestedArchivesAndSubchartDirectories() throws {
        let charts = try TestCharts()
        // leaf.tgz inside mid.tgz inside top.tgz, plus a charts/<dir> subchart of mid.
        let leaf = try charts.chart("leaf", [
            "Chart.yaml": chartYAML("leaf", appVersion: "1.1"),
            "values.yaml": "image:\n  repository: team/leaf\n",
        ])
        try charts.copy(leaf, to: "src-mid/mid/charts/leaf-1.0.0.tgz")
        try charts.write("src-mid/mid", [
            "Chart.yaml": chartYAML("mid", appVersion: "2.2"),
            "values.yaml": "image:\n  repository: team/mid\n",
            "charts/side/Chart.yaml": chartYAML("side", appVersion: "3.3"),
            "charts/side/values.yaml": "image:\n  repository: team/side\n",
            "charts/side/templates/pod.yaml": "spec:\n  containers:\n  - image: busybox:1.36\n",
        ])
        let mid = try charts.pack("src-mid/mid", as: "mid-1.0.0.tgz")
        try charts.copy(mid, to: "top/charts/mid-1.0.0.tgz")
        try charts.write("top", ["Chart.yaml": chartYAML("top"), "values.yaml": ""])
        let top = try charts.pack("top", as: "top.tgz")
        let scan = try ImageScanner().scan(tarball: top)
        try expectHelmAgrees(scan, try Helm.renderedImages([top])[0].images ?? [])
        #expect(imagesByChart(scan) == [
            "top": [],
            "top > mid": ["docker.io/team/mid:2.2"],
            "top > mid > leaf": ["docker.io/team/leaf:1.1"],
            "top > mid > side": ["docker.io/library/busybox:1.36", "docker.io/team/side:3.3"],
        ])
        let side = try #require(scan.charts.first { $0.path.last == "side" })
        #expect(side.images[0].sources.map(\.description) == ["top/charts/mid-1.0.0.tgz!mid/charts/side/templates/pod.yaml:3"])
        let leafChart = try #require(scan.charts.first { $0.path.last == "leaf" })
        #expect(leafChart.images[0].sources[0].file == "top/charts/mid-1.0.0.tgz!mid/charts/leaf-1.0.0.tgz!leaf/values.yaml")
    }

    @Test func literalAndRenderedTemplateImages() throws {
        let charts = try TestCharts()
        let tarball = try charts.chart("web", [
            "Chart.yaml": chartYAML("web", appVersion: "5.0.1"),
            "values.yaml": """
            repo:
              host: registry.example.com
              path: team/web
            proxy:
              enabled: false
            debug: false

            """,
            "templates/_helpers.tpl": """
            {{- define "web.image" -}}
            {{- $tag := printf "v%s" .Chart.AppVersion -}}
            {{ .Values.repo.host }}/{{ .Values.repo.path }}:{{ $tag }}
            {{- end -}}
            {{- define "web.sidecar" -}}
            - name: sidecar
              image: "docker.io/library/nginx:1.25"
            {{- end -}}

            """,
            "templates/deployment.yaml": """
            apiVersion: apps/v1
            kind: Deployment
            spec:
              template:
                spec:
                  {{- $root := . }}
                  initContainers:
                  - name: init
                    image: "busybox:1.36" # a literal
                  containers:
                  - name: web
                    image: {{ include "web.image" $root | quote }}
                  {{- include "web.sidecar" . | nindent 2 }}
                  {{- if .Values.proxy.enabled }}
                  - name: proxy
                    image: envoyproxy/envoy:v1.29.1
                  {{- else if .Values.debug }}
                  - name: debug
                    image: 'alpine:3.19'
                  {{- else }}
                  - name: pause
                    image: registry.k8s.io/pause:3.9
                  {{- end }}

            """,
        ])
        let scan = try ImageScanner().scan(tarball: tarball)
        #expect(scan.images.map(\.description) == [
            "docker.io/library/busybox:1.36", "docker.io/library/nginx:1.25", "registry.example.com/team/web:v5.0.1",
            "registry.k8s.io/pause:3.9",
        ])
        #expect(scan.charts[0].unused.map(\.reference.description) == ["docker.io/envoyproxy/envoy:v1.29.1", "docker.io/library/alpine:3.19"])
        try expectHelmAgrees(scan, try Helm.renderedImages([tarball])[0].images ?? [])
        let web = try #require(scan.charts[0].images.first { $0.reference.registry == "registry.example.com" })
        #expect(web.sources.map(\.description) == ["web/templates/deployment.yaml:12"])
        let sidecar = try #require(scan.charts[0].images.first { $0.reference.repository == "library/nginx" })
        #expect(sidecar.sources.map(\.description) == ["web/templates/_helpers.tpl:7"])
        #expect(scan.warnings.isEmpty)
    }

    @Test func templateValuesAreWarningsNotGuesses() throws {
        let charts = try TestCharts()
        let tarball = try charts.chart("tpl", [
            "Chart.yaml": chartYAML("tpl", appVersion: "1.0"),
            "values.yaml": """
            image:
              repository: "{{ .Values.global.repo }}/app"
              tag: "1.0"
            sidecarImage: "{{ .Release.Name }}-sidecar:1"
            helper:
              image:
                repository: team/helper
                tag: "2"

            """,
            "templates/pod.yaml": """
            spec:
              containers:
              - image: {{ tpl .Values.image.repository . }}:{{ .Values.image.tag }}
              - image: {{ .Release.Name }}-debug:latest
              - image: {{ include "common.image" (dict "imageRoot" .Values.helper.image "global" .Values.global) }}

            """,
        ])
        let scan = try ImageScanner().scan(tarball: tarball)
        // helper.image: the line that builds it cannot be rendered (a dict argument), so the values
        // convention lists it; the other two lines read nothing that values know and are warnings.
        #expect(scan.images.map(\.description) == ["docker.io/team/helper:2"])
        #expect(scan.warnings.map(\.description) == [
            "tpl 1.0.0: tpl/templates/pod.yaml:4: image {{ .Release.Name }}-debug:latest cannot be determined without rendering the chart (the value renders something known only at install time); it is not listed",
            "tpl 1.0.0: tpl/values.yaml:2: image.repository: the value \"{{ .Values.global.repo }}/app\" is a template (for tpl); chartsync does not render it, so the image is not listed",
            "tpl 1.0.0: tpl/values.yaml:4: sidecarImage: the value \"{{ .Release.Name }}-sidecar:1\" is a template (for tpl); chartsync does not render it, so the image is not listed",
        ])
    }

    @Test func invalidReferencesAreWarnings() throws {
        let charts = try TestCharts()
        let tarball = try charts.chart("bad", [
            "Chart.yaml": chartYAML("bad", appVersion: "1.0"),
            "values.yaml": "image:\n  repository: team/App\n  tag: \"1.0\"\nworkerImage: \"worker::1\"\n",
            "templates/pod.yaml": "spec:\n  containers:\n  - image: \"busy box:1\"\n",
        ])
        let scan = try ImageScanner().scan(tarball: tarball)
        #expect(scan.images.isEmpty)
        #expect(scan.warnings.map(\.description) == [
            "bad 1.0.0: bad/templates/pod.yaml:3: image \"busy box:1\" is not a valid image reference: it holds spaces, control or non-ASCII characters",
            "bad 1.0.0: bad/values.yaml:1: image: \"team/App:1.0\" is not a valid image reference: the name component \"App\" must be lowercase letters and digits, separated by . _ __ or -",
            "bad 1.0.0: bad/values.yaml:4: workerImage: \"worker::1\" is not a valid image reference: the name component \"worker:\" must be lowercase letters and digits, separated by . _ __ or -",
        ])
    }

    @Test func hugeValuesFileIsRefusedNamingIt() throws {
        let charts = try TestCharts()
        let line = "key: " + String(repeating: "x", count: 1000) + "\n"
        let tarball = try charts.chart("huge", [
            "Chart.yaml": chartYAML("huge"),
            "values.yaml": String(repeating: line, count: 6 * 1024),
        ])
        #expect {
            _ = try ImageScanner().scan(tarball: tarball)
        } throws: { error in
            "\(error)" == "\(tarball): entry \"huge/values.yaml\" holds more than 5242880 bytes (the limit for one file)"
        }
    }

    @Test func aliasBombIsRefusedNamingTheFile() throws {
        let charts = try TestCharts()
        var bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...8 {
            let previous = level == 1 ? "a" : "l\(level - 1)"
            bomb += "l\(level): &l\(level) [" + Array(repeating: "*\(previous)", count: 10).joined(separator: ", ") + "]\n"
        }
        let tarball = try charts.chart("bomb", ["Chart.yaml": chartYAML("bomb"), "values.yaml": bomb])
        #expect {
            _ = try ImageScanner().scan(tarball: tarball)
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("\(tarball): bomb/values.yaml:") && text.contains("refused: aliases expand to more than 100000 nodes")
        }
    }

    @Test func deepNestingOfSubchartsIsRefused() throws {
        let charts = try TestCharts()
        var inner = try charts.chart("c0", ["Chart.yaml": chartYAML("c0")])
        for level in 1...6 {
            try charts.copy(inner, to: "src-c\(level)/c\(level)/charts/c\(level - 1).tgz")
            try charts.write("src-c\(level)/c\(level)", ["Chart.yaml": chartYAML("c\(level)")])
            inner = try charts.pack("src-c\(level)/c\(level)", as: "c\(level).tgz")
        }
        #expect {
            _ = try ImageScanner(maxNesting: 4).scan(tarball: inner)
        } throws: { error in
            "\(error)".contains("nests subcharts more than 4 levels deep")
        }
        #expect(try ImageScanner().scan(tarball: inner).charts.count == 7)
    }
}
