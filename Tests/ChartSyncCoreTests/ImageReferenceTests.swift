import ChartSyncCore
import Testing

/// Image references parse and normalize as Docker and containerd read them.
@Suite struct ImageReferenceTests {
    @Test(arguments: [
        ("nginx", "docker.io/library/nginx"),
        ("nginx:1.25.4", "docker.io/library/nginx:1.25.4"),
        ("bitnami/nginx:1.25.4-debian-12-r3", "docker.io/bitnami/nginx:1.25.4-debian-12-r3"),
        ("docker.io/nginx", "docker.io/library/nginx"),
        ("index.docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36"),
        ("quay.io/argoproj/argocd:v2.10.4", "quay.io/argoproj/argocd:v2.10.4"),
        ("registry.k8s.io/nfd/node-feature-discovery:v0.15.4", "registry.k8s.io/nfd/node-feature-discovery:v0.15.4"),
        ("nvcr.io/nvidia/k8s-device-plugin:v0.14.0", "nvcr.io/nvidia/k8s-device-plugin:v0.14.0"),
        ("localhost:5000/team/app:1", "localhost:5000/team/app:1"),
        ("localhost/app", "localhost/app"),
        ("127.0.0.1:5000/app@sha256:" + String(repeating: "a", count: 64), "127.0.0.1:5000/app@sha256:" + String(repeating: "a", count: 64)),
        ("grafana/grafana:7.3.5@sha256:" + String(repeating: "0", count: 64), "docker.io/grafana/grafana:7.3.5@sha256:" + String(repeating: "0", count: 64)),
        ("a__b/c-d---e/f.g_h:tag", "docker.io/a__b/c-d---e/f.g_h:tag"),
        ("Registry.Example.com/app", "Registry.Example.com/app"),
    ])
    func normalizes(_ text: String, _ expected: String) throws {
        let reference = try ImageReference(parsing: text)
        #expect(reference.description == expected)
        // Normal forms are fixed points.
        #expect(try ImageReference(parsing: reference.description) == reference)
    }

    @Test func partsAreSeparated() throws {
        let r = try ImageReference(parsing: "localhost:5000/team/app:1.2@sha256:" + String(repeating: "b", count: 64))
        #expect(r.registry == "localhost:5000")
        #expect(r.repository == "team/app")
        #expect(r.tag == "1.2")
        #expect(r.digest == "sha256:" + String(repeating: "b", count: 64))
        #expect(r.name == "localhost:5000/team/app")
        #expect(r.withoutDigest.description == "localhost:5000/team/app:1.2")
    }

    @Test(arguments: [
        "", "app:", ":tag", "app::tag", "a//b", "/app", "app/", "app:-tag", "app:.tag",
        "app:" + String(repeating: "t", count: 129), "app@sha256:abc", "app@sha256:" + String(repeating: "A", count: 64),
        "app with space", "{{ .Values.image }}", "app-", "-app", "a..b", "quay.io:port/app", "app\u{7f}",
    ])
    func refuses(_ text: String) {
        #expect(throws: ImageReferenceError.self) { try ImageReference(parsing: text) }
    }

    @Test func ordersByFullText() throws {
        let names = ["quay.io/b:1", "nginx:1", "docker.io/library/nginx:0.9", "ghcr.io/a:2"]
        let sorted = try names.map { try ImageReference(parsing: $0) }.sorted().map(\.description)
        #expect(sorted == ["docker.io/library/nginx:0.9", "docker.io/library/nginx:1", "ghcr.io/a:2", "quay.io/b:1"])
    }
}
