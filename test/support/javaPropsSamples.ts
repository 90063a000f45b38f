// Real SMV config files (TresAmigosSD/SMV, Apache License 2.0), byte for byte, so the props
// tests do not depend on a checkout of the SMV project. Sources: the enterprise project
// template (`smv.stages` continued with `\`) and SMV's own testSmvConfig fixtures.

export const SMV_SAMPLES = {
  'enterprise/smv-app-conf.props': '# application name\nsmv.appName = Example App\n\n# stage definitions\nsmv.stages = stage1, \\\n             stage2\n',
  'enterprise/smv-user-conf.props': '# data dir\nsmv.dataDir = file://_PROJ_DIR_FULL_PATH_/data\n',
  'enterprise/smv-user-conf.props.template':
    '# this is a template for user config file. it allows users to specify where SMV will look for data files\n' +
    '# rename this file to `smv-user-conf.props` and change dataDir below to point to where the data is located\n' +
    '# when running SMV on a cluster, it is easier to specify this configuration under `~/.smv.smv-user-conf.props`\n\n' +
    '# see the docs for more details:\n# https://github.com/TresAmigosSD/SMV/blob/master/docs/user/schema_discovery.md\n\n' +
    '# data dir\nsmv.dataDir = file://_PROJ_DIR_FULL_PATH_/data\n',
  'testSmvConfig/smv-app-conf.props':
    'smv.test0 = in_app_conf\nsmv.test1 = in_app_conf\nsmv.test2 = in_app_conf\n#smv.test1 = in_app_conf_should_not_be\n\nsmv.runtimeConfigFile = conf/kv/default-run.props\n',
  // No final newline in the original.
  'testSmvConfig/smv-user-conf.props': 'smv.test1 = in_user_conf\nsmv.test2 = in_user_conf\n\nsmv.stages = s1,s2,s3',
} as const;

/** The case-study consumer conf (seed/stage-publish-case-study.md). */
export const CASE_STUDY_USER_CONF = [
  'smv.stages.geo.version = TCD.20160802.geo',
  'smv.stages.cms.version = TCD.20160802.cms',
  'smv.stages.trial.version = TCD.20160802.trial',
  '',
].join('\n');
