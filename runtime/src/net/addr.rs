//! Addresses a socket call accepts, and when resolving them may block (Go's net/ipsock.go:
//! `resolveAddrList`, `internetAddrList`; net/lookup.go).
//!
//! Go's `net.Dial("tcp", "127.0.0.1:80")` parses a literal IP address itself and only asks the
//! resolver (in a system call, or the cgo resolver on its own thread) for a *name*. Std's
//! `ToSocketAddrs` cannot say in advance which it will do: `"127.0.0.1:80"` and `"example.com:80"`
//! are both `&str`. So gort has its own [`ToSocketAddrs`], implemented for the same types as std's,
//! whose one method sorts an argument into a literal ([`Addrs::Literal`], used as is) or a name
//! ([`Addrs::Lookup`], resolved in a blocking section, `crate::blocking`, so the M hands its P to
//! another M while the resolver waits on the network). Binding to a `SocketAddr` or to
//! `"127.0.0.1:0"` therefore never leaves the G's M.
//!
//! Differences from std: the trait is sealed (its method's result type is gort's own), so code
//! generic over std's `ToSocketAddrs` does not pass its argument through; pass a `SocketAddr` or a
//! string instead.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// An argument to `bind` or `connect` sorted by what resolving it takes.
#[doc(hidden)]
#[derive(Debug, PartialEq, Eq)]
pub enum Addrs<'a> {
    /// Already addresses: no lookup.
    Literal(Vec<SocketAddr>),
    /// A host name and port for the resolver (it may wait on the network).
    Lookup(&'a str, u16),
    /// A `host:port` string with a host name, for the resolver.
    LookupStr(&'a str),
}

/// Something that names one or more socket addresses: a `SocketAddr`, an `(ip, port)` pair, a
/// `"host:port"` string or a `(host, port)` pair. Like std's trait of the same name, but a literal
/// address is never sent to the resolver (see the module's header).
pub trait ToSocketAddrs: sealed::Sealed {
    #[doc(hidden)]
    fn to_addrs(&self) -> Addrs<'_>;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! literal {
    ($($t:ty => |$a:ident| $e:expr;)*) => {$(
        impl sealed::Sealed for $t {}
        impl ToSocketAddrs for $t {
            fn to_addrs(&self) -> Addrs<'_> {
                let $a = self;
                Addrs::Literal(vec![$e])
            }
        }
    )*};
}

literal! {
    SocketAddr => |a| *a;
    SocketAddrV4 => |a| SocketAddr::V4(*a);
    SocketAddrV6 => |a| SocketAddr::V6(*a);
    (IpAddr, u16) => |a| SocketAddr::new(a.0, a.1);
    (Ipv4Addr, u16) => |a| SocketAddr::new(IpAddr::V4(a.0), a.1);
    (Ipv6Addr, u16) => |a| SocketAddr::new(IpAddr::V6(a.0), a.1);
}

impl sealed::Sealed for [SocketAddr] {}
impl ToSocketAddrs for [SocketAddr] {
    fn to_addrs(&self) -> Addrs<'_> {
        Addrs::Literal(self.to_vec())
    }
}

impl sealed::Sealed for str {}
impl ToSocketAddrs for str {
    fn to_addrs(&self) -> Addrs<'_> {
        match self.parse::<SocketAddr>() {
            Ok(a) => Addrs::Literal(vec![a]),
            Err(_) => Addrs::LookupStr(self),
        }
    }
}

impl sealed::Sealed for String {}
impl ToSocketAddrs for String {
    fn to_addrs(&self) -> Addrs<'_> {
        self.as_str().to_addrs()
    }
}

impl sealed::Sealed for (&str, u16) {}
impl ToSocketAddrs for (&str, u16) {
    fn to_addrs(&self) -> Addrs<'_> {
        host_port(self.0, self.1)
    }
}

impl sealed::Sealed for (String, u16) {}
impl ToSocketAddrs for (String, u16) {
    fn to_addrs(&self) -> Addrs<'_> {
        host_port(&self.0, self.1)
    }
}

impl<T: ToSocketAddrs + ?Sized> sealed::Sealed for &T {}
impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {
    fn to_addrs(&self) -> Addrs<'_> {
        (**self).to_addrs()
    }
}

fn host_port(host: &str, port: u16) -> Addrs<'_> {
    match host.parse::<IpAddr>() {
        Ok(ip) => Addrs::Literal(vec![SocketAddr::new(ip, port)]),
        Err(_) => Addrs::Lookup(host, port),
    }
}

/// The addresses `addr` names, in the resolver's order (Go's dialer tries them in order). Only a
/// name goes to the resolver, in a blocking section.
pub(crate) fn resolve<A: ToSocketAddrs + ?Sized>(addr: &A) -> io::Result<Vec<SocketAddr>> {
    use std::net::ToSocketAddrs as _;
    let addrs: Vec<SocketAddr> = match addr.to_addrs() {
        Addrs::Literal(v) => v,
        Addrs::Lookup(host, port) => crate::blocking(|| (host, port).to_socket_addrs())?.collect(),
        Addrs::LookupStr(s) => crate::blocking(|| s.to_socket_addrs())?.collect(),
    };
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        ));
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_never_reach_the_resolver() {
        let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        let lit = |a: Addrs<'_>| matches!(a, Addrs::Literal(_));
        assert!(lit(v4.to_addrs()));
        assert!(lit("127.0.0.1:80".to_addrs()));
        assert!(lit("[::1]:80".to_string().to_addrs()));
        assert!(lit(("127.0.0.1", 80).to_addrs()));
        assert!(lit(("::1".to_string(), 80).to_addrs()));
        assert!(lit((Ipv4Addr::LOCALHOST, 80).to_addrs()));
        assert!(lit((IpAddr::V6(Ipv6Addr::LOCALHOST), 80).to_addrs()));
        assert!(lit([v4, v6][..].to_addrs()));
        assert!(lit((&&v6).to_addrs()));
        assert_eq!(("::1", 80).to_addrs(), Addrs::Literal(vec![v6]));
    }

    #[test]
    fn names_go_to_the_resolver() {
        assert_eq!("localhost:80".to_addrs(), Addrs::LookupStr("localhost:80"));
        assert_eq!(("localhost", 80).to_addrs(), Addrs::Lookup("localhost", 80));
        // Not an address at all: the resolver gives the error, as std's would.
        assert_eq!("no port".to_addrs(), Addrs::LookupStr("no port"));
    }

    #[test]
    fn empty_list_is_an_error_not_a_panic() {
        let none: &[SocketAddr] = &[];
        let err = resolve(none).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
