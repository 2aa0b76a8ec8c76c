export * from './images';
export * from './curves';
export * from './results';
export * from './projection';
