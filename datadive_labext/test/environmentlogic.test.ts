// The Environment tab's pure helpers: what a researcher reads for each state of the environment.
import { IEnvironmentStatus, environmentState, packageName, packageSpecProblem, percent, pollDelay, stateLine } from '../src/environmentlogic';

const base: IEnvironmentStatus = {
  enabled: true,
  project: { id: 'p1', name: 'Alpha', folder: 'Alpha', writable: true },
  requirements: { present: true, packages: ['tinypkg==1.0'], error: null, text: 'tinypkg==1.0\n' },
  lock: { present: true, stale: false, pins: ['tinypkg==1.0'], error: null, text: '' },
  environment: null,
  cached: false,
  build: null,
  last_error: null
};
const env = { key: 'k', installed: ['tinypkg==1.0'], from_image: [], current: true, kernel: 'datadive-env-p1', kernel_display_name: 'Python (Alpha)' };
const build = (over: object) => ({ running: false, phase: 'done', progress: 1, log: '', started_at: 0, finished_at: 1, error: null, ...over });

describe('environment states', () => {
  it('says how to use a ready environment', () => {
    const s = { ...base, environment: env };
    expect(environmentState(s)).toBe('ready');
    expect(stateLine(s)).toContain('choose the kernel "Python (Alpha)"');
  });
  it('shows progress while building and polls', () => {
    const s = { ...base, build: build({ running: true, phase: 'installing packages', progress: 0.456 }) };
    expect(environmentState(s)).toBe('building');
    expect(stateLine(s)).toBe('Building: installing packages (46%)');
    expect(pollDelay(s)).toBe(1000);
    expect(pollDelay({ ...base, environment: env })).toBeNull();
  });
  it('says the previous environment is kept after a failed build', () => {
    const s = {
      ...base,
      environment: { ...env, current: false },
      build: build({ error: 'tinybroken failed to build' }),
      last_error: { message: 'tinybroken failed to build', package: 'tinybroken', log: '', at: 1 }
    };
    expect(environmentState(s)).toBe('failed');
    expect(stateLine(s)).toContain('keeps using the previous environment');
  });
  it('tells an outdated environment, an empty project, a cache hit and turned off apart', () => {
    expect(environmentState({ ...base, environment: { ...env, current: false } })).toBe('outdated');
    const empty = { ...base, requirements: { ...base.requirements!, present: false }, lock: { ...base.lock!, present: false } };
    expect(stateLine(empty)).toContain('lists no packages');
    expect(stateLine({ ...base, cached: true })).toContain('in the cache');
    expect(stateLine({ enabled: false, message: 'Project environments are turned off' })).toBe('Project environments are turned off');
  });
});

describe('package entries', () => {
  it('finds the name of a requirement', () => {
    expect(packageName('semopy>=2.3 ; python_version < "3.12"')).toBe('semopy');
    expect(packageName('factor_analyzer==0.5.1')).toBe('factor_analyzer');
  });
  it('refuses what the server would refuse, with the reason', () => {
    expect(packageSpecProblem('semopy>=2.3')).toBeNull();
    expect(packageSpecProblem('  ')).toContain('Type a package name');
    expect(packageSpecProblem('git+https://x/y')).toContain('URLs and local paths');
    expect(packageSpecProblem('--index-url x')).toContain('Options are not allowed');
    expect(percent(1.7)).toBe('100%');
  });
});
