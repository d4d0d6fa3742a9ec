import ChartSyncCore
import ChartSyncTestSupport
import Foundation
import Testing

/// `chartsync diff`: a repository of our own chart `shop` in three versions whose values, images,
/// dependencies, templates and CRDs change in known ways, served by nginx (index.yaml written by
/// `chartsync index`) and pushed to a docker-registry (OCI); the project vendors 1.0.0.
@Suite struct DiffCommandTests {
    // MARK: - The charts

    /// shop 1.0.0: image team/shop:1.0, a legacy pod (team/legacy:0.9) on by default, a CRD in crds/.
    static let version1: [String: String] = [
        "Chart.yaml": """
            apiVersion: v2
            name: shop
            version: 1.0.0
            appVersion: "1.0"
            dependencies:
              - name: cache
                version: 1.0.0
                repository: https://charts.example.com
                condition: cache.enabled

            """,
        "values.yaml": """
            image:
              repository: team/shop
              tag: "1.0"
            replicas: 1
            legacy:
              enabled: true
              mode: old
            podAnnotations: {}
            cache:
              enabled: false

            """,
        "templates/deployment.yaml": """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: shop
            spec:
              replicas: {{ .Values.replicas }}
              template:
                spec:
                  containers:
                    - name: shop
                      image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"

            """,
        "templates/legacy.yaml": """
            {{- if .Values.legacy.enabled }}
            apiVersion: v1
            kind: Pod
            metadata:
              name: legacy
            spec:
              containers:
                - name: legacy
                  image: team/legacy:0.9
            {{- end }}

            """,
        "crds/widgets.yaml": """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata:
              name: widgets.example.com
            spec:
              group: example.com
              versions:
                - name: v1

            """,
    ]

    /// shop 1.1.0 (what `^1.0` wants): appVersion and image tag 1.1, nothing else.
    static let version1_1: [String: String] = {
        var files = version1
        files["Chart.yaml"] = files["Chart.yaml"]!.replacingOccurrences(of: "version: 1.0.0\nappVersion: \"1.0\"",
                                                                         with: "version: 1.1.0\nappVersion: \"1.1\"")
        files["values.yaml"] = files["values.yaml"]!.replacingOccurrences(of: "tag: \"1.0\"", with: "tag: \"1.1\"")
        return files
    }()

    /// shop 2.0.0: kubeVersion set; cache 2.0.0 under another condition, queue added; legacy
    /// (values and template) removed; metrics (team/exporter:0.5) added; the deployment labelled;
    /// the crds/ CRD gains a version; a templated CRD added.
    static let version2: [String: String] = [
        "Chart.yaml": """
            apiVersion: v2
            name: shop
            version: 2.0.0
            appVersion: "2.0"
            kubeVersion: ">=1.25.0-0"
            dependencies:
              - name: cache
                version: 2.0.0
                repository: https://charts.example.com
                condition: cache.install
              - name: queue
                version: 0.3.0
                repository: https://charts.example.com

            """,
        "values.yaml": """
            image:
              repository: team/shop
              tag: "2.0"
            replicas: 2
            podAnnotations: {}
            metrics:
              enabled: true
              image: team/exporter:0.5
            cache:
              install: false

            """,
        "templates/deployment.yaml": """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: shop
              labels:
                app: shop
            spec:
              replicas: {{ .Values.replicas }}
              template:
                spec:
                  containers:
                    - name: shop
                      image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"

            """,
        "templates/metrics.yaml": """
            {{- if .Values.metrics.enabled }}
            apiVersion: v1
            kind: Pod
            metadata:
              name: metrics
            spec:
              containers:
                - name: exporter
                  image: {{ .Values.metrics.image }}
            {{- end }}

            """,
        "crds/widgets.yaml": """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata:
              name: widgets.example.com
            spec:
              group: example.com
              versions:
                - name: v1
                - name: v2

            """,
        "templates/crd-gadgets.yaml": """
            apiVersion: apiextensions.k8s.io/v1
            kind: "CustomResourceDefinition"
            metadata:
              name: gadgets.example.com

            """,
    ]

    /// The site's overrides: `legacy` is gone in 2.0.0, `image.pullPolicy` never existed,
    /// `podAnnotations` is open, `global` is never checked, `metrics.enabled` switches the exporter off.
    static let siteValues = """
        legacy:
          mode: new
        podAnnotations:
          team: shop
        image:
          pullPolicy: Always
        metrics:
          enabled: false
        global:
          anything: 1

        """

    /// Packs `files` as shop-<version>.tgz into `directory` with tar and gzip.
    static func pack(_ files: [String: String], version: String, into directory: String) throws {
        let source = try TemporaryDirectory(prefix: "chartsync-chart")
        for (path, text) in files { try source.write("shop/" + path, Array(text.utf8)) }
        try runCommand(["tar", "-czf", directory + "/shop-\(version).tgz", "-C", source.path, "shop"])
    }

    static let versions: [(String, [String: String])] = [("1.0.0", version1), ("1.1.0", version1_1), ("2.0.0", version2)]

    // MARK: - Expected reports

    static let header1_1 = "shop: 1.0.0 (locked) -> 1.1.0 (wanted) from "
    static let body1_1 = """
        Chart.yaml
          ~ version: 1.0.0 -> 1.1.0
          ~ appVersion: 1.0 -> 1.1
        Dependencies
          (no changes)
        Default values
          ~ image.tag: "1.0" -> "1.1"
        Images (default values)
          ~ docker.io/team/shop:1.0 -> docker.io/team/shop:1.1
        Templates
          (no changes)
        CRDs (Helm installs crds/ once and never upgrades it: apply those changes yourself)
          (no changes)

        """

    static let body2 = """
        Chart.yaml
          ~ version: 1.0.0 -> 2.0.0
          ~ appVersion: 1.0 -> 2.0
          + kubeVersion: >=1.25.0-0
        Dependencies
          ~ cache: version 1.0.0 -> 2.0.0; condition cache.enabled -> cache.install
          + queue: queue 0.3.0
        Default values
          ~ image.tag: "1.0" -> "2.0"
          ~ replicas: 1 -> 2
          + metrics.enabled: true
          + metrics.image: team/exporter:0.5
          + cache.install: false
          - legacy.enabled: true
          - legacy.mode: old
          - cache.enabled: false
        Images (default values)
          + docker.io/team/exporter:0.5
          - docker.io/team/legacy:0.9
          ~ docker.io/team/shop:1.0 -> docker.io/team/shop:2.0
        Templates
          ~ templates/deployment.yaml (+2 -0 lines)
          - templates/legacy.yaml
          + templates/metrics.yaml
        CRDs (Helm installs crds/ once and never upgrades it: apply those changes yourself)
          ~ crds/widgets.yaml (+1 -0 lines; not applied by helm upgrade)
          + templates/crd-gadgets.yaml

        """

    static let withValues = """
        Overrides 2.0.0 ignores (site.yaml)
          ! legacy.mode (site.yaml:2): legacy is gone from the defaults (1.0.0 has it)
          ! image.pullPolicy (site.yaml:6): image.pullPolicy is in neither version's defaults
        Images with site.yaml
          - docker.io/team/legacy:0.9
          ~ docker.io/team/shop:1.0 -> docker.io/team/shop:2.0

        """

    // MARK: - Helpers

    static func diff(_ project: PullProject, _ arguments: [String]) throws -> CLI.Run {
        try CLI.run(["diff"] + arguments, in: project.path)
    }

    static func json(_ run: CLI.Run) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stdout)")
    }

    /// The report after its first line (which names the repository and digest).
    static func body(_ run: CLI.Run) -> String {
        run.stdout.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).dropFirst().joined() 
    }

    /// Checks the JSON of `diff shop --to 2.0.0 --values site.yaml --json` field by field.
    static func expectVersion2JSON(_ report: [String: Any], repository: String) throws {
        #expect(report["chart"] as? String == "shop")
        #expect(report["repository"] as? String == repository)
        #expect(report["from"] as? String == "1.0.0")
        #expect(report["to"] as? String == "2.0.0")
        #expect(report["candidate"] as? String == "asked")
        #expect((report["sha256"] as? String)?.hasPrefix("sha256:") == true)
        let chartYAML = try #require(report["chartYAML"] as? [[String: Any]])
        #expect(chartYAML.map { "\($0["field"]!) \($0["from"]!) \($0["to"]!)" }
            == ["version 1.0.0 2.0.0", "appVersion 1.0 2.0", "kubeVersion <null> >=1.25.0-0"])
        let dependencies = try #require(report["dependencies"] as? [[String: Any]])
        #expect(dependencies.map { "\($0["name"]!) \($0["change"]!)" } == ["cache changed", "queue added"])
        let cacheTo = try #require(dependencies.first?["to"] as? [String: Any])
        #expect(cacheTo["condition"] as? String == "cache.install")
        #expect(cacheTo["version"] as? String == "2.0.0")
        #expect(dependencies.last?["from"] is NSNull)
        let values = try #require(report["values"] as? [[String: Any]])
        #expect(values.map { "\($0["change"]!) \($0["path"]!) \($0["from"]!) \($0["to"]!)" } == [
            "changed image.tag \"1.0\" \"2.0\"", "changed replicas 1 2", "added metrics.enabled <null> true",
            "added metrics.image <null> team/exporter:0.5", "added cache.install <null> false",
            "removed legacy.enabled true <null>", "removed legacy.mode old <null>", "removed cache.enabled false <null>",
        ])
        let images = try #require(report["images"] as? [String: Any])
        #expect(images["from"] as? [String] == ["docker.io/team/legacy:0.9", "docker.io/team/shop:1.0"])
        #expect(images["to"] as? [String] == ["docker.io/team/exporter:0.5", "docker.io/team/shop:2.0"])
        #expect(images["added"] as? [String] == ["docker.io/team/exporter:0.5"])
        #expect(images["removed"] as? [String] == ["docker.io/team/legacy:0.9"])
        #expect(images["changed"] as? [[String: String]] == [["from": "docker.io/team/shop:1.0", "to": "docker.io/team/shop:2.0"]])
        let templates = try #require(report["templates"] as? [[String: Any]])
        #expect(templates.map { "\($0["change"]!) \($0["path"]!) +\($0["linesAdded"]!) -\($0["linesRemoved"]!)" } == [
            "changed templates/deployment.yaml +2 -0", "removed templates/legacy.yaml +0 -10", "added templates/metrics.yaml +10 -0",
        ])
        let crds = try #require(report["crds"] as? [[String: Any]])
        #expect(crds.map { "\($0["change"]!) \($0["path"]!) \($0["upgradedByHelm"]!)" } == [
            "changed crds/widgets.yaml 0", "added templates/crd-gadgets.yaml 1",
        ])
        #expect(report["valuesFiles"] as? [String] == ["site.yaml"])
        let ignored = try #require(report["ignoredOverrides"] as? [[String: Any]])
        #expect(ignored.map { "\($0["path"]!) \($0["missing"]!) \($0["file"]!):\($0["line"]!) \($0["inLocked"]!)" } == [
            "legacy.mode legacy site.yaml:2 1", "image.pullPolicy image.pullPolicy site.yaml:6 0",
        ])
        let withValues = try #require(report["imagesWithValues"] as? [String: Any])
        #expect(withValues["from"] as? [String] == ["docker.io/team/legacy:0.9", "docker.io/team/shop:1.0"])
        #expect(withValues["to"] as? [String] == ["docker.io/team/shop:2.0"])
        #expect(withValues["removed"] as? [String] == ["docker.io/team/legacy:0.9"])
    }

    /// The checks every repository kind gets: wanted by default, --to 2.0.0 in text and JSON,
    /// --values, unknown chart and version; nothing of the project changes. Returns the JSON.
    static func checkReports(_ project: PullProject, repository: String) throws -> [String: Any] {
        let images = try CLI.run(["images"], in: project.path)
        #expect(images.status == 0, "\(images.stderr)")
        #expect(project.exists("images.lock"))
        let before = try project.snapshot()

        let wanted = try diff(project, ["shop"])
        #expect(wanted.status == 0, "\(wanted.stderr)")
        #expect(wanted.stdout.hasPrefix(header1_1 + repository + ", sha256:"), "\(wanted.stdout)")
        #expect(body(wanted) == body1_1, "\(wanted.stdout)")

        let text = try diff(project, ["shop", "--to", "2.0.0"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.hasPrefix("shop: 1.0.0 (locked) -> 2.0.0 (asked) from " + repository + ", sha256:"), "\(text.stdout)")
        #expect(body(text) == body2, "\(text.stdout)")

        try project.directory.write("site.yaml", Array(siteValues.utf8))
        let values = try diff(project, ["shop", "--to", "2.0.0", "--values", "site.yaml"])
        #expect(values.status == 0, "\(values.stderr)")
        #expect(body(values) == body2 + withValues, "\(values.stdout)")

        let json = try diff(project, ["shop", "--to", "2.0.0", "--values", "site.yaml", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let report = try Self.json(json)
        try expectVersion2JSON(report, repository: repository)
        try FileManager.default.removeItem(atPath: project.path + "/site.yaml")

        // Unknown chart, unknown version: exit 2, named.
        let unknown = try diff(project, ["shoop"])
        #expect(unknown.status == 2, "\(unknown.stderr)")
        #expect(unknown.stderr.contains("chart \"shoop\" is not in the chart list; did you mean \"shop\"?"), "\(unknown.stderr)")
        let noVersion = try diff(project, ["shop", "--to", "9.9.9"])
        #expect(noVersion.status == 2, "\(noVersion.stderr)")
        #expect(noVersion.stderr.contains("\"9.9.9\""), "\(noVersion.stderr)")

        // Nothing vendored changed, nothing left behind.
        #expect(try project.snapshot() == before)
        #expect(try CLI.run(["verify"], in: project.path).status == 0)
        return report
    }

    // MARK: - Tests

    @Test func reportsTheKnownChangesFromAnIndexRepository() throws {
        let served = try TemporaryDirectory(prefix: "chartsync-served")
        try Self.pack(Self.version1, version: "1.0.0", into: served.path)
        #expect(try CLI.run(["index", served.path]).status == 0)
        let server = try StaticServer(root: served.path)
        defer { server.stop() }
        let project = try PullProject(chartList: """
            repositories:
              - name: shop
                url: \(server.baseURL())
            charts:
              - name: shop
                repository: shop
                version: "^1.0"

            """)
        let pulled = try project.pull()
        #expect(pulled.status == 0, "\(pulled.stderr)")
        // The repository publishes 1.1.0 and 2.0.0 later.
        for (version, files) in Self.versions.dropFirst() { try Self.pack(files, version: version, into: served.path) }
        #expect(try CLI.run(["index", served.path]).status == 0)

        let report = try Self.checkReports(project, repository: server.baseURL())
        #expect(report["sha256"] as? String == "sha256:" + (try sha256sum(file: served.file("shop-2.0.0.tgz"))))

        // A vendored tarball that is not what the lock records: exit 1, nothing fetched.
        let vendored = project.path + "/charts/external/shop-1.0.0.tgz"
        let original = try Data(contentsOf: URL(fileURLWithPath: vendored))
        try (original + Data([0])).write(to: URL(fileURLWithPath: vendored))
        let tampered = try Self.diff(project, ["shop"])
        #expect(tampered.status == 1, "\(tampered.stderr)")
        #expect(tampered.stderr.contains("charts/external/shop-1.0.0.tgz should be chart \"shop\""), "\(tampered.stderr)")
        try original.write(to: URL(fileURLWithPath: vendored))

        // The repository unreachable: exit 3.
        server.stop()
        let offline = try Self.diff(project, ["shop", "--retries", "0"])
        #expect(offline.status == 3, "\(offline.stderr)")
        #expect(try project.leftovers().isEmpty)
    }

    @Test func reportsTheSameChangesFromAnOCIRepository() throws {
        let built = try TemporaryDirectory(prefix: "chartsync-built")
        for (version, files) in Self.versions { try Self.pack(files, version: version, into: built.path) }
        let registry = try RegistryServer()
        defer { registry.stop() }
        try registry.pushChart("charts/shop", tags: ["1.0.0"], chart: built.file("shop-1.0.0.tgz"))
        let project = try PullProject(chartList: """
            repositories:
              - name: shop
                url: oci://\(registry.name)/charts
                plainHTTP: true
            charts:
              - name: shop
                repository: shop
                version: "^1.0"

            """)
        let pulled = try project.pull()
        #expect(pulled.status == 0, "\(pulled.stderr)")
        for (version, _) in Self.versions.dropFirst() {
            try registry.pushChart("charts/shop", tags: [version], chart: built.file("shop-\(version).tgz"))
        }
        let report = try Self.checkReports(project, repository: "oci://\(registry.name)/charts")
        #expect(report["sha256"] as? String == "sha256:" + (try sha256sum(file: built.file("shop-2.0.0.tgz"))))
    }

    @Test func withoutAnAdmittedVersionTheLatestIsCompared() throws {
        // The constraint admits nothing newer than what is locked... nor anything at all once the
        // list asks for 3.x: the newest version there is (2.0.0) is compared.
        let served = try TemporaryDirectory(prefix: "chartsync-served")
        try Self.pack(Self.version1, version: "1.0.0", into: served.path)
        try Self.pack(Self.version2, version: "2.0.0", into: served.path)
        #expect(try CLI.run(["index", served.path]).status == 0)
        let server = try StaticServer(root: served.path)
        defer { server.stop() }
        let list = { (version: String) in """
            repositories:
              - name: shop
                url: \(server.baseURL())
            charts:
              - name: shop
                repository: shop
                version: "\(version)"

            """ }
        let project = try PullProject(chartList: list("1.0.0"))
        #expect(try project.pull().status == 0)
        try project.setChartList(list("^3.0"))
        let run = try Self.diff(project, ["shop"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("shop: 1.0.0 (locked) -> 2.0.0 (latest) from "), "\(run.stdout)")
        #expect(Self.body(run) == Self.body2, "\(run.stdout)")
    }

    /// Real fixture charts with two versions (../shared/fixtures): old, new.
    static let fixturePairs: [(directory: String, chart: String, old: String, new: String)] = [
        ("repo-nvidia-k8s-device-plugin/stable", "nvidia-device-plugin", "0.14.0", "0.20.0"),
        ("repo-nvidia-k8s-device-plugin/stable", "nvidia-device-plugin", "0.6.0", "0.7.0"),
        ("repo-nvidia-k8s-device-plugin/stable", "gpu-feature-discovery", "0.15.0", "0.20.0"),
        ("repo-grafana-helm-charts/packages", "grafana", "0.6", "0.6.1"),
    ]

    @Test(arguments: fixturePairs.indices)
    func imagesOfEachSideAreWhatHelmRenders(pair index: Int) throws {
        // The images diff reports for the locked and the candidate version equal what real Helm 4
        // renders for each with its default values.
        let pair = Self.fixturePairs[index]
        let project = try PullProject(chartList: """
            repositories:
              - name: local
                url: repo
            charts:
              - name: \(pair.chart)
                repository: local
                version: "\(pair.old)"

            """)
        try FileManager.default.createDirectory(atPath: project.path + "/repo", withIntermediateDirectories: true)
        let tarballs = [pair.old, pair.new].map { Fixtures.path("\(pair.directory)/\(pair.chart)-\($0).tgz") }
        for tarball in tarballs {
            try FileManager.default.copyItem(atPath: tarball, toPath: project.path + "/repo/" + URL(fileURLWithPath: tarball).lastPathComponent)
        }
        #expect(try CLI.run(["index", project.path + "/repo"]).status == 0)
        let pulled = try project.pull()
        #expect(pulled.status == 0, "\(pulled.stderr)")
        let run = try Self.diff(project, [pair.chart, "--to", pair.new, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let images = try #require(try Self.json(run)["images"] as? [String: Any])
        let rendered = try Helm.renderedImages(tarballs)
        try #require(rendered.count == 2)
        for (side, helm) in zip(["from", "to"], rendered) {
            #expect(helm.error == nil, "\(helm.error ?? "")")
            let expected = try Set((helm.images ?? []).map { try ImageReference(parsing: $0).description })
            #expect(Set(images[side] as? [String] ?? []) == expected, "\(pair.chart) \(side)")
        }
    }
}
