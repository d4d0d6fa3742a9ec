import ChartSyncTestSupport
import Foundation
import Testing

/// `chartsync images` on the built binary: images.lock from the vendored charts, --check, the
/// chart list's extra and exclude, kept digests, the gate and bundle, and --resolve against a
/// real registry (Debian's docker-registry) on 127.0.0.1 with images pushed by the test.
@Suite struct ImagesCommandTests {
    /// A copy of this project's vendored tree (chart list, versions.lock, charts/external).
    private func vendoredCopy() throws -> PullProject {
        let root = Fixtures.packageRoot
        let project = try PullProject(chartList: try String(contentsOfFile: root + "/chartsync.yaml", encoding: .utf8))
        try runCommand(["cp", "-a", root + "/versions.lock", root + "/charts", project.path])
        return project
    }

    private func images(_ project: PullProject, _ arguments: [String] = [], environment: [String: String] = [:]) throws -> CLI.Run {
        try CLI.run(["images"] + arguments, in: project.path, environment: environment)
    }

    private func json(_ run: CLI.Run) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    }

    @Test func theProjectsImagesLockIsWhatImagesWrites() throws {
        let project = try vendoredCopy()
        let run = try images(project)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try project.read("images.lock") == (try String(contentsOfFile: Fixtures.packageRoot + "/images.lock", encoding: .utf8)))
        #expect(run.stdout.contains("docker.io/library/nginx:1.25.4  hello-web"), "\(run.stdout)")
        // A second run writes nothing; --check passes.
        let before = try project.snapshot()
        let again = try images(project)
        #expect(again.stdout.contains("images.lock unchanged"), "\(again.stdout)")
        #expect(try project.snapshot() == before)
        #expect(try images(project, ["--check"]).status == 0)
    }

    @Test func staleImagesLockFailsCheckGateAndBundle() throws {
        let project = try vendoredCopy()
        #expect(try images(project).status == 0)
        let text = try project.read("images.lock")
        // nginx dropped, an image no chart uses added.
        let edited = text.replacingOccurrences(of: "docker.io/library/nginx:1.25.4", with: "docker.io/library/nginx:1.24.0")
        try project.directory.write("images.lock", Array(edited.utf8))

        let check = try images(project, ["--check"])
        #expect(check.status == 1)
        #expect(check.stderr.contains("docker.io/library/nginx:1.25.4 is used by chart(s) hello-web but images.lock does not list it"), "\(check.stderr)")
        #expect(check.stderr.contains("images.lock lists docker.io/library/nginx:1.24.0"), "\(check.stderr)")
        #expect(try project.read("images.lock") == edited)

        let gate = try CLI.run(["verify", "--json", "--junit", "gate.xml"], in: project.path)
        #expect(gate.status == 1)
        let problems = (try json(gate)["problems"] as? [[String: Any]] ?? []).map { "\($0["check"]!) \($0["code"]!) \($0["file"]!)" }
        #expect(problems.sorted() == ["images image-missing images.lock", "images image-unused images.lock"], "\(gate.stdout)")
        try runCommand(["xmllint", "--noout", "--schema", Fixtures.packageRoot + "/docs/schemas/junit.xsd", project.path + "/gate.xml"])
        #expect(try project.read("gate.xml").contains("classname=\"chartsync.verify.images\" name=\"images.lock matches the charts\""))

        let out = try TemporaryDirectory()
        let bundle = try CLI.run(["bundle", "-o", out.file("b")], in: project.path)
        #expect(bundle.status == 1)
        #expect(bundle.stderr.contains("images.lock"), "\(bundle.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty)

        // Written again, everything passes, and the bundle lists the images.
        #expect(try images(project).status == 0)
        #expect(try CLI.run(["verify"], in: project.path).status == 0)
        #expect(try CLI.run(["bundle", "-o", out.file("b")], in: project.path).status == 0)
        let inspected = try CLI.run(["inspect", out.file("b")], in: project.path)
        #expect(inspected.stdout.contains("images (images.lock):\n  docker.io/library/busybox:1.36\n  docker.io/library/nginx:1.25.4"), "\(inspected.stdout)")
    }

    @Test func extraExcludeAndAnImagesSectionWithoutFile() throws {
        let project = try vendoredCopy()
        let list = try project.read("chartsync.yaml")
        try project.setChartList(list + """
            images:
              extra:
                - busybox:1.37
              exclude:
                - docker.io/library/nginx
                - quay.io/nobody/typo

            """)
        // The section asks for images.lock: the gate wants it.
        let gate = try CLI.run(["verify"], in: project.path)
        #expect(gate.status == 1)
        #expect(gate.stdout.contains("images.lock: missing"), "\(gate.stdout)")

        let run = try images(project, ["--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let document = try json(run)
        let listed = (document["images"] as? [[String: Any]] ?? []).map { "\($0["image"]!) \($0["extra"]!)" }
        #expect(listed == ["docker.io/library/busybox:1.36 0", "docker.io/library/busybox:1.37 1"], "\(run.stdout)")
        #expect(document["excluded"] as? [String] == ["docker.io/library/nginx:1.25.4"])
        #expect(run.stderr.contains("images.exclude quay.io/nobody/typo matches no image"), "\(run.stderr)")
        #expect(try CLI.run(["verify"], in: project.path).status == 0)
    }

    @Test func aTarballThatIsNotTheLockedOneIsNotRead() throws {
        let project = try vendoredCopy()
        let path = project.path + "/charts/external/hello-worker-0.5.0.tgz"
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[200] ^= 0x01
        try project.directory.write("charts/external/hello-worker-0.5.0.tgz", bytes)
        let run = try images(project)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("charts/external/hello-worker-0.5.0.tgz: expected sha256:"), "\(run.stderr)")
        #expect(!project.exists("images.lock"))
    }

    @Test func pinnedDigestsAreKept() throws {
        let project = try vendoredCopy()
        #expect(try images(project).status == 0)
        let digest = "sha256:" + String(repeating: "a", count: 64)
        let pinned = try project.read("images.lock").replacingOccurrences(of: "docker.io/library/nginx:1.25.4\"", with: "docker.io/library/nginx:1.25.4@\(digest)\"")
        try project.directory.write("images.lock", Array(pinned.utf8))
        let run = try images(project)
        #expect(run.stdout.contains("images.lock unchanged: 2 image(s), 1 pinned by digest"), "\(run.stdout)")
        #expect(try project.read("images.lock") == pinned)
        #expect(try images(project, ["--check"]).status == 0)
        #expect(try CLI.run(["verify"], in: project.path).status == 0)
    }

    // MARK: - --resolve against a real registry

    /// A project vendoring one chart whose values name `image` (and a second image under `sidecar`).
    private func registryProject(image: String, sidecar: String, registryBlock: String) throws -> PullProject {
        let project = try PullProject(chartList: """
            repositories:
              - name: local
                url: repo
            charts:
              - name: app
                repository: local
            images:
              registries:
            \(registryBlock)
            """)
        let source = try TemporaryDirectory(prefix: "chartsync-chart")
        try source.write("app/Chart.yaml", Array("apiVersion: v2\nname: app\nversion: 1.0.0\nappVersion: \"1.0\"\n".utf8))
        try source.write("app/values.yaml", Array("image: \(image)\nsidecar:\n  image: \(sidecar)\n".utf8))
        try source.write("app/templates/deployment.yaml", Array("""
            apiVersion: apps/v1
            kind: Deployment
            spec:
              template:
                spec:
                  containers:
                    - name: app
                      image: {{ .Values.image }}
                    - name: sidecar
                      image: {{ .Values.sidecar.image }}

            """.utf8))
        try FileManager.default.createDirectory(atPath: project.path + "/repo", withIntermediateDirectories: true)
        try runCommand(["tar", "-czf", project.path + "/repo/app-1.0.0.tgz", "-C", source.path, "app"])
        let indexed = try CLI.run(["index", project.path + "/repo"], in: project.path)
        #expect(indexed.status == 0, "\(indexed.stderr)")
        let pulled = try project.pull()
        #expect(pulled.status == 0, "\(pulled.stderr)")
        return project
    }

    @Test func resolvePinsTheDigestsTheRegistryHas() throws {
        let registry = try RegistryServer()
        let app = try registry.push("team/app", tag: "1.0")
        let sidecar = try registry.pushIndex("team/sidecar", tag: "2.1")
        let project = try registryProject(image: registry.reference("team/app", tag: "1.0"),
                                          sidecar: registry.reference("team/sidecar", tag: "2.1"),
                                          registryBlock: "    - host: \(registry.name)\n      plainHTTP: true\n")
        let run = try images(project, ["--resolve"])
        #expect(run.status == 0, "\(run.stderr)\n\(registry.log())")
        let lock = try project.read("images.lock")
        #expect(lock.contains("\(registry.name)/team/app:1.0@\(app.digest)"), "\(lock)")
        #expect(lock.contains("\(registry.name)/team/sidecar:2.1@\(sidecar.digest)"), "\(lock)")
        #expect(run.stdout.contains("2 pinned by digest; 2 resolved"), "\(run.stdout)")
        #expect(try images(project, ["--check"]).status == 0)
        #expect(try CLI.run(["verify"], in: project.path).status == 0)

        // An unknown tag: exit 2, the image named, images.lock untouched.
        try project.setChartList(try project.read("chartsync.yaml") + "  extra:\n    - \(registry.reference("team/app", tag: "nope"))\n")
        let unknown = try images(project, ["--resolve"])
        #expect(unknown.status == 2, "\(unknown.stderr)")
        #expect(unknown.stderr.contains("\(registry.name)/team/app:nope"), "\(unknown.stderr)")
        #expect(try project.read("images.lock") == lock)
    }

    @Test func resolveFailuresHaveClearErrorsAndExitCodes() throws {
        // Basic auth with a wrong password: exit 2, the registry named, the password nowhere.
        let user = StaticServer.BasicAuth(username: "ci", password: "right-password")
        let registry = try RegistryServer(options: .init(authentication: .basic([user])))
        try registry.push("team/app", tag: "1.0")
        let project = try registryProject(
            image: registry.reference("team/app", tag: "1.0"), sidecar: registry.reference("team/app", tag: "1.0"),
            registryBlock: "    - host: \(registry.name)\n      plainHTTP: true\n      usernameEnv: REG_USER\n      passwordEnv: REG_PASS\n")
        let wrong = try images(project, ["--resolve"], environment: ["REG_USER": "ci", "REG_PASS": "wrong-secret-value"])
        #expect(wrong.status == 2, "\(wrong.stderr)")
        #expect(wrong.stderr.contains(registry.name), "\(wrong.stderr)")
        #expect(!(wrong.stdout + wrong.stderr).contains("wrong-secret-value"))
        #expect(!project.exists("images.lock"))
        let right = try images(project, ["--resolve"], environment: ["REG_USER": "ci", "REG_PASS": "right-password"])
        #expect(right.status == 0, "\(right.stderr)")
        #expect(!(right.stdout + right.stderr + (try project.read("images.lock"))).contains("right-password"))

        // The registry gone: exit 3, the host named.
        registry.stop()
        let gone = try images(project, ["--resolve"], environment: ["REG_USER": "ci", "REG_PASS": "right-password"])
        #expect(gone.status == 3, "\(gone.stderr)")
        #expect(gone.stderr.contains(registry.name), "\(gone.stderr)")
    }
}
