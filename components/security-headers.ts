/**
 * The security headers' values, in one place: the app sends them on every response (app/src/http/
 * security-headers.ts), and from step 6 CloudFront's response-headers policy (components/cdn.ts) sends the same ones,
 * so a response reads alike whichever of the two wrote the header. Plain constants without the Pulumi SDK, so that the
 * app bundles them without the SDK.
 */

/**
 * HSTS max-age in seconds, two years: the value hstspreload.org asks for (browsers keep the HTTPS-only rule that long
 * after the last visit). At least one year is what the policy pack requires.
 */
export const HSTS_MAX_AGE_SECONDS = 63_072_000;
/** HSTS covers the site's subdomains too, which are the shop's own and served over HTTPS. */
export const HSTS_INCLUDE_SUBDOMAINS = true;
/** Other sites learn the shop's origin from a link, never a path (which may name an order). */
export const REFERRER_POLICY = "strict-origin-when-cross-origin";
/** No page of the shop may be framed (clickjacking); the CSP's `frame-ancestors 'none'` says it to newer browsers. */
export const FRAME_OPTIONS = "DENY";
