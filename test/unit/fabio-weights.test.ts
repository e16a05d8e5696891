/** Pure Fabio rules and route diffs: the text Fabio parses and what counts as "live". */
import { expect } from 'chai';
import { diffRoutes, formatRouteTable, routesOf, type LiveRoute } from '../../src/fabio/routes.js';
import { routedServices, weightOfRules } from '../../src/fabio/table.js';
import { formatWeight, routeSource, routeSources, weightKey, weightRules, weightRulesText } from '../../src/fabio/weights.js';

const route = (o: Partial<LiveRoute>): LiveRoute => ({ service: 'web', src: '/web', dst: 'http://127.0.0.1:1/', weight: 0.5, tags: [], opts: '', ...o });

describe('fabio weights (pure)', () => {
  it('takes the source of a urlprefix- tag without its options', () => {
    expect(routeSource('urlprefix-web.example.com/api strip=/api proto=https')).to.equal('web.example.com/api');
    expect(routeSource('urlprefix-:1234 proto=tcp')).to.equal(':1234');
    expect(routeSource('canary')).to.equal(undefined);
    expect(routeSources(['urlprefix-/a', 'canary', 'urlprefix-/a strip=/a', 'urlprefix-h.io/'])).to.deep.equal(['/a', 'h.io/']);
  });

  it("writes one route weight line per source in Fabio's manual-override syntax", () => {
    const input = { service: 'web', routeTags: ['urlprefix-web.qa.example.com/ ', 'urlprefix-/api strip=/api', 'canary'], weight: 0.2 };
    expect(weightRules(input)).to.deep.equal([
      'route weight web web.qa.example.com/ weight 0.2 tags "canary"',
      'route weight web /api weight 0.2 tags "canary"',
    ]);
    expect(weightRulesText({ ...input, selectTags: ['canary', 'v2'] })).to.match(
      /^# hashiship: .*\nroute weight web web\.qa\.example\.com\/ weight 0\.2 tags "canary,v2"\n/,
    );
  });

  it('refuses weights outside (0, 1), routes-less services, bad tags and bad names before any I/O', () => {
    expect(formatWeight(0.05)).to.equal('0.05');
    expect(formatWeight(1 / 3)).to.equal('0.3333');
    for (const w of [0, 1, -0.1, Number.NaN, 1.5]) expect(() => formatWeight(w)).to.throw('must be > 0 and < 1');
    expect(() => weightRules({ service: 'web', routeTags: ['canary'], weight: 0.2 })).to.throw('no urlprefix- route tags');
    expect(() => weightRules({ service: 'web', routeTags: ['urlprefix-/'], weight: 0.2, selectTags: ['a b'] })).to.throw('invalid selection tags');
    expect(weightKey('web')).to.equal('fabio/config/web');
    expect(weightKey('web', '/fabio/config/')).to.equal('fabio/config/web');
    expect(() => weightKey('../other-team')).to.throw('invalid service name');
  });
});

describe('fabio route diff (pure)', () => {
  const canary = route({ dst: 'http://127.0.0.1:2/', tags: ['canary'], weight: 0.2 });
  const stable = route({ weight: 0.8 });

  it('agrees when the canary targets together get the weight', () => {
    expect(diffRoutes([canary, stable, route({ service: 'other', weight: 1 })], { service: 'web', sources: ['/web'], canaryWeight: 0.2 })).to.deep.equal([]);
    const half = [route({ tags: ['canary'], weight: 0.1 }), route({ tags: ['canary'], weight: 0.1 }), stable];
    expect(diffRoutes(half, { service: 'web', sources: ['/web'], canaryWeight: 0.2 })).to.deep.equal([]);
  });

  it('names every difference: wrong weight, missing source, missing canary or stable side, uneven split, target count', () => {
    expect(diffRoutes([canary, stable], { service: 'web', sources: ['/web', '/x'], canaryWeight: 0.3 })).to.deep.equal([
      '/web: canary targets get 20.0 %, expected 30.0 %',
      '/x: no live route for web',
    ]);
    expect(diffRoutes([stable], { service: 'web', sources: ['/web'], canaryWeight: 0.2 })).to.deep.equal(['/web: no live canary target (tags canary)']);
    expect(diffRoutes([route({ tags: ['canary'], weight: 1 })], { service: 'web', sources: ['/web'], canaryWeight: 0.2 })).to.deep.equal([
      '/web: no live stable target beside the canary',
    ]);
    expect(diffRoutes([canary, stable], { service: 'web', sources: ['/web'] })).to.deep.equal([
      '/web → http://127.0.0.1:2/: weight 20.0 %, expected 50.0 % (no weight rule)',
      '/web → http://127.0.0.1:1/: weight 80.0 %, expected 50.0 % (no weight rule)',
    ]);
    expect(diffRoutes([route({ weight: 1 })], { service: 'web', sources: ['/web'], targets: 2 })).to.deep.equal(['/web: 1 live targets, expected 2']);
  });

  it('shows the live table beside the expected one', () => {
    expect(formatRouteTable([canary, stable], [{ service: 'web', sources: ['/web'], canaryWeight: 0.2 }])).to.deep.equal([
      'web  expected: /web canary 20.0 %  live',
      '  /web → http://127.0.0.1:2/  20.0 %  [canary]',
      '  /web → http://127.0.0.1:1/  80.0 %',
    ]);
  });

  // Regression: a route's options (any text in a Consul tag) reached `hashiship routes` raw, escape sequences and line breaks included.
  it('escapes what Fabio answered, one line per target', () => {
    const hostile = route({ src: '/web', dst: 'http://127.0.0.1:1/', weight: 1, opts: 'strip=/web\u001b[2J\n  /web → http://evil/  100.0 %' });
    expect(formatRouteTable([hostile], [{ service: 'web', sources: ['/web'] }])).to.deep.equal([
      'web  expected: /web  live',
      '  /web → http://127.0.0.1:1/  100.0 %  strip=/web\\u001b[2J\\n  /web → http://evil/  100.0 %',
    ]);
  });

  it("shows only the environment's own routes of a service whose Consul name other environments share", () => {
    // Regression: `routes --env qa` listed production's route of the sample (same Consul service name, other host).
    const qa = route({ src: 'sample.qa.local/', dst: 'http://127.0.0.1:3/', weight: 1 });
    const prod = route({ src: 'sample.prod.local/', dst: 'http://127.0.0.1:4/', weight: 1 });
    const expected = { service: 'web', sources: ['sample.qa.local/'] };
    expect(routesOf([qa, prod], expected)).to.deep.equal([qa]);
    expect(formatRouteTable([qa, prod], [expected])).to.deep.equal([
      'web  expected: sample.qa.local/  live',
      '  sample.qa.local/ → http://127.0.0.1:3/  100.0 %',
    ]);
  });
});

describe('fabio expected table (pure)', () => {
  it('reads the weight back from the rules text and the routed Consul services from rendered jobs', () => {
    expect(weightOfRules(weightRulesText({ service: 'web', routeTags: ['urlprefix-/'], weight: 0.15 }))).to.equal(0.15);
    expect(weightOfRules('# other team\n')).to.equal(undefined);
    const jobs = [
      {
        TaskGroups: [
          { Services: [{ Name: 'web', Tags: ['urlprefix-/a', 'x'] }], Tasks: [{ Services: [{ Name: 'web', Tags: ['urlprefix-/b strip=/b'] }] }] },
          {
            Services: [
              { Name: 'kafka', Provider: 'nomad', Tags: ['urlprefix-:9092 proto=tcp'] },
              { Name: 'db', Tags: ['primary'] },
            ],
          },
        ],
      },
    ];
    expect([...routedServices(jobs)]).to.deep.equal([['web', ['/a', '/b']]]);
  });
});
