import Foundation
import GRDB

/// A Facebook page as the "Log in to Facebook" step offers it.
public struct DirectoryPage: Equatable, Sendable {
    public let id: String
    public let name: String
    public let tasks: [String]
    /// The page access token; a secret that goes to the transport and nowhere else.
    public let accessToken: String?

    public var role: PageRole { PageRole(tasks: tasks) }
    public var eligibility: PageEligibility { PageEligibility(tasks: tasks) }
}

/// Which pages the connected Facebook user can link (R2).
public protocol PageDirectory: Sendable {
    func pages() throws -> [DirectoryPage]
}

/// The sandbox directory: the pages stored in the database by `pages import` or by the demo.
public struct SandboxPageDirectory: PageDirectory {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func pages() throws -> [DirectoryPage] {
        try database.snapshot { db in
            try db.rows("SELECT id, name, tasks, access_token FROM page ORDER BY name, id").map {
                DirectoryPage(id: $0["id"], name: $0["name"], tasks: PageStore.splitTasks($0["tasks"]), accessToken: $0["access_token"])
            }
        }
    }
}

/// Reads the JSON of `GET /me/accounts?fields=id,name,tasks,access_token`.
public enum MeAccountsResponse {
    public static func parse(_ data: Data) throws -> (pages: [DirectoryPage], next: String?) {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw DomainError("not valid JSON: expected the response of GET /me/accounts")
        }
        guard let object = root as? [String: Any], let list = object["data"] as? [Any] else {
            throw DomainError("expected an object with a \"data\" array, as GET /me/accounts returns")
        }
        var pages: [DirectoryPage] = []
        var seen = Set<String>()
        for (index, item) in list.enumerated() {
            let at = "data[\(index)]"
            guard let page = item as? [String: Any] else { throw DomainError("\(at) is not an object") }
            guard let id = page["id"] as? String, !id.isEmpty, id.count <= 32, id.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw DomainError("\(at).id must be a page id of digits")
            }
            guard let name = page["name"] as? String else { throw DomainError("\(at).name must be a string") }
            let pageName: String
            do { pageName = try ProfileName(name, what: "\(at).name").value } catch let e as DomainError { throw e }
            var tasks: [String] = []
            if let raw = page["tasks"] {
                guard let list = raw as? [String], list.allSatisfy({ $0.allSatisfy { $0.isASCII && ($0.isLetter || $0 == "_") } }) else {
                    throw DomainError("\(at).tasks must be an array of task names")
                }
                tasks = list.map { $0.uppercased() }
            }
            var token: String?
            if let raw = page["access_token"] {
                guard let t = raw as? String else { throw DomainError("\(at).access_token must be a string") }
                // A token goes into an HTTP header: a CR or LF (or any control or space) in it
                // could add headers of its own. Facebook's tokens are printable ASCII.
                guard t.isEmpty || GraphHTTP.isValidToken(t) else {
                    throw DomainError("\(at).access_token is not a token Facebook issues (printable ASCII, no spaces or line breaks)")
                }
                token = t.isEmpty ? nil : t
            }
            guard seen.insert(id).inserted else { throw DomainError("\(at): page \(id) appears twice") }
            pages.append(DirectoryPage(id: id, name: pageName, tasks: tasks, accessToken: token))
        }
        let paging = object["paging"] as? [String: Any]
        return (pages, paging?["next"] as? String)
    }
}
