//! A resource that knows its methods, so a request with any other method gets
//! `405` with an `Allow` header and the §3 error body (actix answers a bare 405).
//! Each is named by its path pattern, which is what metrics label requests with.

use actix_web::dev::HttpServiceFactory;
use actix_web::http::Method;
use actix_web::{FromRequest, Handler, Resource, Responder, web};

use super::error::ApiError;

pub struct Endpoint {
    resource: Resource,
    allow: Vec<&'static str>,
}

impl Endpoint {
    pub fn new(path: &str) -> Self {
        Self::named(path, path)
    }

    /// A resource mounted in a scope: `name` is its whole path pattern.
    pub fn named(path: &str, name: &str) -> Self {
        Self {
            resource: web::resource(path).name(name),
            allow: Vec::new(),
        }
    }

    pub fn get<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method(Method::GET, handler)
    }

    pub fn post<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method(Method::POST, handler)
    }

    pub fn put<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method(Method::PUT, handler)
    }

    pub fn patch<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method(Method::PATCH, handler)
    }

    pub fn delete<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method(Method::DELETE, handler)
    }

    /// CORS preflights.
    pub fn options<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method(Method::OPTIONS, handler)
    }

    fn method<F, Args>(mut self, method: Method, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let name = match method {
            Method::GET => "GET",
            Method::POST => "POST",
            Method::PATCH => "PATCH",
            Method::PUT => "PUT",
            Method::DELETE => "DELETE",
            _ => "OPTIONS",
        };
        self.allow.push(name);
        self.resource = self.resource.route(web::method(method).to(handler));
        self
    }
}

impl HttpServiceFactory for Endpoint {
    fn register(self, config: &mut actix_web::dev::AppService) {
        let allow = self.allow.join(", ");
        let resource = self.resource.default_service(web::to(move || {
            let allow = allow.clone();
            async move { Err::<actix_web::HttpResponse, _>(ApiError::MethodNotAllowed { allow }) }
        }));
        resource.register(config);
    }
}
