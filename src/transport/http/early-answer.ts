// Answers the server decides before the Elysia app runs (a body over the limit), sent through the
// app all the same when its hooks must shape every answer: with Cors 1, a browser can read only an
// answer that carries the CORS headers, and the app's CORS plugin is what adds them.

const answers = new WeakMap<Request, Response>();

/**
 * A bodiless copy of `request` (same method, URL and headers, so the CORS plugin sees what it
 * would have seen) that the app answers with `answer` as soon as it sees it.
 */
export function answeredEarly(request: Request, answer: Response): Request {
  const copy = new Request(request.url, { method: request.method, headers: request.headers });
  answers.set(copy, answer);
  return copy;
}

/** The answer decided for this request before the app, if any: the app's first request hook. */
export function earlyAnswer(request: Request): Response | undefined {
  return answers.get(request);
}
